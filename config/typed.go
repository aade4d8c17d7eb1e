package config

import (
	"encoding/json"
	"errors"
	"strings"
)

// HTTPServer is the typed view of httpServer.
type HTTPServer struct {
	ServerType             string          `json:"serverType"`
	Protocol               string          `json:"protocol"`
	Host                   string          `json:"host"`
	Port                   FlexString      `json:"port"` // a number or a string in the file
	Path                   string          `json:"path"`
	ExternalURL            string          `json:"externalURL"`
	AdditionalURLs         []string        `json:"additionalURLs"`
	ThreadPoolSize         int             `json:"threadPoolSize"` // default runtime.GOMAXPROCS(0)
	InetPub                string          `json:"inetPub"`
	InetIndex              string          `json:"inetIndex"`
	RequestQueueLength     int             `json:"requestQueueLength"`
	MaxBandwidth           int             `json:"maxBandwidth"`
	MaxConnections         int             `json:"maxConnections"`
	AllowCORSFrom          string          `json:"allowCORSFrom"`
	Compression            string          `json:"compression"`
	Timeouts               HTTPTimeouts    `json:"timeouts"`
	AutoShutdownTimeoutSec int             `json:"autoShutdownTimeoutSec"`
	ReverseProxy           ReverseProxy    `json:"reverseProxy"`
	HeadersPostprocessors  json.RawMessage `json:"headersPostprocessors"`
}

// HTTPTimeouts are httpServer.timeouts, in seconds (minSendRate in bytes per second).
type HTTPTimeouts struct {
	EntityBody      float64 `json:"entityBody"`
	DrainEntityBody float64 `json:"drainEntityBody"`
	RequestQueue    float64 `json:"requestQueue"`
	IdleConnection  float64 `json:"idleConnection"`
	HeaderWait      float64 `json:"headerWait"`
	MinSendRate     float64 `json:"minSendRate"`
}

// ReverseProxy is httpServer.reverseProxy.
type ReverseProxy struct {
	Kind                 string `json:"kind"`
	RemoteIPHeader       string `json:"remoteIPHeader"`
	RemoteConnIDHeader   string `json:"remoteConnIDHeader"`
	SendFileHeader       string `json:"sendFileHeader"`
	SendFileLocationRoot string `json:"sendFileLocationRoot"`
	ServeStatic          bool   `json:"serveStatic"`
	SecurityZoneHeader   string `json:"securityZoneHeader"`
}

// Security is the typed view of security.
type Security struct {
	AuthenticationMethods                  []string       `json:"authenticationMethods"`
	LockOutInDB                            bool           `json:"lockOutInDB"`
	LockOutTimeoutSec                      int            `json:"lockOutTimeoutSec"` // default 300
	Zones                                  []Zone         `json:"zones"`
	ZonesAuthenticationMethods             []ZoneMethods  `json:"zonesAuthenticationMethods"`
	ForceNTLM                              bool           `json:"forceNTLM"`
	SimpleCertAuth                         bool           `json:"simpleCertAuth"`
	UserSessionMode                        string         `json:"userSessionMode"` // default "Multiple"
	DomainMap                              map[string]any `json:"domainMap"`
	LDAPCatalogs                           []LDAPCatalog  `json:"ldapCatalogs"`
	JSONRequestsOnly                       bool           `json:"jsonRequestsOnly"`
	LocalIPs                               string         `json:"localIPs"`
	SkipCheckingCallerAndSessionIPEquality bool           `json:"skipCheckingCallerAndSessionIpEquality"`
	LimitGroupsTo                          []string       `json:"limitGroupsTo"`
	ExcludeGroups                          []string       `json:"excludeGroups"`
	DisabledAccounts                       string         `json:"disabledAccounts"`
	Multitenancy                           Multitenancy   `json:"multitenancy"`
	TrustedProxies                         []string       `json:"trustedProxies"`
}

// Zone is a security zone: a name and the subnets it includes.
type Zone struct {
	Name     string   `json:"name"`
	Includes []string `json:"includes"`
}

// ZoneMethods are the authentication methods allowed in a zone.
type ZoneMethods struct {
	Name                  string   `json:"name"`
	AuthenticationMethods []string `json:"authenticationMethods"`
}

// LDAPCatalog is one security.ldapCatalogs item.
type LDAPCatalog struct {
	Name                       string `json:"name"`
	URL                        string `json:"URL"`
	CAPath                     string `json:"CAPath"`
	IgnoreSSLCertificateErrors bool   `json:"ignoreSSLCertificateErrors"`
}

// Multitenancy is security.multitenancy.
type Multitenancy struct {
	Enabled        bool     `json:"enabled"`
	TenantIDHeader string   `json:"tenantIDHeader"`
	Tenants        []Tenant `json:"tenants"`
	RedirectURL    string   `json:"redirectURL"`
}

// Tenant maps a URI to a tenant ID.
type Tenant struct {
	URI string `json:"URI"`
	TID int    `json:"TID"`
}

// Application is the typed view of application.
type Application struct {
	Name           string                    `json:"name"`
	DefaultLang    string                    `json:"defaultLang"`
	RootHandler    string                    `json:"rootHandler"`
	Schedulers     Schedulers                `json:"schedulers"`
	Domain         Domain                    `json:"domain"`
	Connections    []Connection              `json:"connections"`
	BlobStores     []BlobStore               `json:"blobStores"`
	CustomSettings map[string]any            `json:"customSettings"`
	MixinsDefaults map[string]map[string]any `json:"mixinsDefaults"`
	FTS            FTS                       `json:"fts"`
}

// Schedulers is application.schedulers.
type Schedulers struct {
	Enabled bool `json:"enabled"` // default true
}

// Domain is application.domain without its models (see Config.Models).
type Domain struct {
	ImplicitlyAddedMixins []string `json:"implicitlyAddedMixins"`
	SupportedLanguages    []string `json:"supportedLanguages"`
	VendorModels          string   `json:"vendorModels"`
	CustomerModels        string   `json:"customerModels"`
}

// Connection is one application.connections item.
type Connection struct {
	Name                 string   `json:"name"`
	Driver               string   `json:"driver"`
	Dialect              string   `json:"dialect"`
	IsDefault            bool     `json:"isDefault"`
	ServerName           string   `json:"serverName"`
	DatabaseName         string   `json:"databaseName"`
	UserID               string   `json:"userID"`
	Password             string   `json:"password"`
	SupportLang          []string `json:"supportLang"`
	ExecuteWhenConnected []string `json:"executeWhenConnected"`
	AdvSettings          string   `json:"advSettings"`
	StatementCacheSize   int      `json:"statementCacheSize"`
	StatementMaxMemoryMb float64  `json:"statementMaxMemoryMb"`
	ReplicatedAs         string   `json:"replicatedAs"`
	MaxConnections       int      `json:"maxConnections"`
	Synchronous          string   `json:"synchronous"`
}

// BlobStore is one application.blobStores item; Path and TempPath are absolute.
type BlobStore struct {
	Name                  string `json:"name"`
	IsDefault             bool   `json:"isDefault"`
	ImplementedBy         string `json:"implementedBy"`
	StoreType             string `json:"storeType"`
	Path                  string `json:"path"`
	TempPath              string `json:"tempPath"`
	HistoryDepth          int    `json:"historyDepth"`
	StoreSize             string `json:"storeSize"`
	LUCount               int    `json:"LUCount"`
	KeepOriginalFileNames bool   `json:"keepOriginalFileNames"`
}

// FTS is application.fts.
type FTS struct {
	Enabled bool `json:"enabled"`
	Async   bool `json:"async"`
}

// Logging is the typed view of logging.
type Logging struct {
	Levels             []string `json:"levels"`
	Path               string   `json:"path"`
	RotationSizeInMB   float64  `json:"rotationSizeInMB"`
	SlowQueryThreshold float64  `json:"slowQueryThreshold"` // ms
	FlushTimeOut       float64  `json:"flushTimeOut"`       // s
	StackTrackDepth    int      `json:"stackTrackDepth"`
}

// FlexString is a value written either as a JSON string or as a number (httpServer.port).
type FlexString string

// UnmarshalJSON accepts a string or a number.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = FlexString(n.String())
	return nil
}

// String returns the value.
func (f FlexString) String() string { return string(f) }

// decodeViews fills the typed views from Raw. The schema has already checked the types; a
// decoding failure is still reported rather than ignored.
func (l *loader) decodeViews() {
	c := l.cfg
	c.Security = Security{LockOutTimeoutSec: 300, UserSessionMode: "Multiple", SimpleCertAuth: true}
	c.Application = Application{Schedulers: Schedulers{Enabled: true}}
	c.HTTPServer = HTTPServer{ServerType: "Socket", Protocol: "http", InetIndex: "index.html", RequestQueueLength: 1000}
	c.Logging = Logging{Levels: []string{"LastError", "Error", "Exception", "ExceptionOS"}, RotationSizeInMB: 100, SlowQueryThreshold: 200, FlushTimeOut: 10}
	l.decode("/httpServer", &c.HTTPServer)
	l.decode("/security", &c.Security)
	l.decode("/application", &c.Application)
	l.decode("/logging", &c.Logging)
	if c.Application.RootHandler == "" {
		c.Application.RootHandler = "index.html"
	}
}

func (l *loader) decode(ptr string, dst any) {
	v, ok := l.cfg.Raw[ptr[1:]]
	if !ok || v == nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, dst)
	}
	if err != nil {
		p := ptr
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			p = ptr + "/" + strings.ReplaceAll(te.Field, ".", "/")
		}
		if len(l.errs) == 0 { // do not repeat what the schema check said
			e := &Error{Pointer: p, Msg: "cannot read the value: " + err.Error()}
			e.File, e.Line, e.Col = l.locate(p)
			l.fail(e)
		}
	}
}
