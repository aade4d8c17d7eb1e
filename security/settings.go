package security

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ubgo/ubgo/ubql"
)

// Settings are the tunables of passwords, lockout and signatures. Each is read, in this
// order, from the ubs_settings entity (settingKey / settingValue, when the application has
// one, as UnityBase's UBS model does), from a key of the same name in
// application.customSettings of ubconfig.json, or is the default:
//
//	UBA.passwordPolicy.minLength           3     shortest password changePassword accepts
//	UBA.passwordPolicy.checkCmplexity      false upper and lower case, a digit and a symbol (sic: UnityBase's spelling)
//	UBA.passwordPolicy.allowMatchWithLogin false a password equal to the login is refused
//	UBA.passwordPolicy.checkPrevPwdNum     4     the new password may not be one of the last N
//	UBA.passwordPolicy.maxDurationDays     0     a password older than this must be changed (0: never)
//	UBA.passwordPolicy.maxInvalidAttempts  0     failed logins before a lock (0: no lockout)
//	ubgo.security.clockSkewSec             300   allowed difference of client and server clocks on a session's first request
//	ubgo.security.signatureWindowSec       120   allowed age (or advance) of a signature, on the client's clock
//	ubgo.security.replayToleranceSec       5     how far a signature's time may go back (requests in flight overtake each other)
//	ubgo.security.maxFailuresPerIP         50    failed logins from one client address, within ipLockOutSec, that lock the address (0: no address lockout)
//	ubgo.security.ipLockOutSec             300   the window of maxFailuresPerIP and how long the address stays locked (0: no address lockout)
//
// They are reloaded with the roles (Options.RefreshEvery) and by Reload.
type Settings struct {
	MinLength           int
	CheckComplexity     bool
	AllowMatchWithLogin bool
	CheckPrevPwdNum     int
	MaxDurationDays     int
	MaxInvalidAttempts  int
	ClockSkew           time.Duration
	SignatureWindow     time.Duration
	ReplayTolerance     time.Duration
	MaxFailuresPerIP    int
	IPLockOut           time.Duration
}

// ipLockout reports whether the per-address lockout is on.
func (st *Settings) ipLockout() bool { return st.MaxFailuresPerIP > 0 && st.IPLockOut > 0 }

// DefaultSettings are the settings when nothing sets them.
var DefaultSettings = Settings{MinLength: 3, CheckPrevPwdNum: 4, ClockSkew: 300 * time.Second,
	SignatureWindow: 120 * time.Second, ReplayTolerance: 5 * time.Second, MaxFailuresPerIP: 50, IPLockOut: 300 * time.Second}

// settingKeys maps each key to its field.
var settingKeys = map[string]func(st *Settings, v string) error{
	"UBA.passwordPolicy.minLength":           intSetting(func(st *Settings, n int) { st.MinLength = n }),
	"UBA.passwordPolicy.checkCmplexity":      boolSetting(func(st *Settings, b bool) { st.CheckComplexity = b }),
	"UBA.passwordPolicy.allowMatchWithLogin": boolSetting(func(st *Settings, b bool) { st.AllowMatchWithLogin = b }),
	"UBA.passwordPolicy.checkPrevPwdNum":     intSetting(func(st *Settings, n int) { st.CheckPrevPwdNum = n }),
	"UBA.passwordPolicy.maxDurationDays":     intSetting(func(st *Settings, n int) { st.MaxDurationDays = n }),
	"UBA.passwordPolicy.maxInvalidAttempts":  intSetting(func(st *Settings, n int) { st.MaxInvalidAttempts = n }),
	"ubgo.security.clockSkewSec":             secSetting(func(st *Settings, d time.Duration) { st.ClockSkew = d }),
	"ubgo.security.signatureWindowSec":       secSetting(func(st *Settings, d time.Duration) { st.SignatureWindow = d }),
	"ubgo.security.replayToleranceSec":       secSetting(func(st *Settings, d time.Duration) { st.ReplayTolerance = d }),
	"ubgo.security.maxFailuresPerIP":         intSetting(func(st *Settings, n int) { st.MaxFailuresPerIP = n }),
	"ubgo.security.ipLockOutSec":             secSetting(func(st *Settings, d time.Duration) { st.IPLockOut = d }),
}

func intSetting(set func(*Settings, int)) func(*Settings, string) error {
	return func(st *Settings, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("want a whole number >= 0, got %q", v)
		}
		set(st, n)
		return nil
	}
}

func secSetting(set func(*Settings, time.Duration)) func(*Settings, string) error {
	return intSetting(func(st *Settings, n int) { set(st, time.Duration(n)*time.Second) })
}

func boolSetting(set func(*Settings, bool)) func(*Settings, string) error {
	return func(st *Settings, v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1", "yes":
			set(st, true)
		case "false", "0", "no", "":
			set(st, false)
		default:
			return fmt.Errorf("want true or false, got %q", v)
		}
		return nil
	}
}

// loadSettings reads the settings (see Settings). A value that does not parse is logged
// and the default kept: a typo in a setting must not lock everybody out.
func (s *Service) loadSettings(ctx context.Context) (*Settings, error) {
	st := DefaultSettings
	values := map[string]string{}
	for k, v := range s.cfg.Application.CustomSettings {
		if _, known := settingKeys[k]; known {
			values[k] = fmt.Sprint(v)
		}
	}
	if e := s.dom.Entity("ubs_settings"); e != nil && e.Attribute("settingKey") != nil && e.Attribute("settingValue") != nil {
		keys := make([]any, 0, len(settingKeys))
		for k := range settingKeys {
			keys = append(keys, k)
		}
		rows, err := s.selectRows(ctx, "ubs_settings", []string{"settingKey", "settingValue"},
			[]ubql.WhereItem{{Name: "keys", Expression: "[settingKey]", Condition: ubql.In, Value: keys, HasValue: true}}, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if v, ok := r["settingValue"].(string); ok && v != "" {
				values[asString(r["settingKey"])] = v
			}
		}
	}
	for k, v := range values {
		if err := settingKeys[k](&st, v); err != nil {
			s.log.Warn("security setting ignored", "key", k, "err", err)
		}
	}
	return &st, nil
}
