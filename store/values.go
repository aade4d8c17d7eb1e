package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ubgo/ubgo/domain"
	"github.com/ubgo/ubgo/store/dialect"
)

// maxSafeInt is the largest integer a JavaScript client reads without losing precision.
const maxSafeInt = 1<<53 - 1

// toDB converts a wire value (reference §4.3) for attribute a into the value bound for d.
// nil stays nil. The error message names what is wrong but not the attribute; the caller
// adds it.
func toDB(d dialect.Dialect, a *domain.Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.DataType {
	case domain.String, domain.Text, domain.Enum, domain.Document:
		s, err := asString(v)
		if err != nil {
			return nil, err
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("text contains a NUL character")
		}
		if a.DataType == domain.String && a.Size > 0 && utf8.RuneCountInString(s) > a.Size {
			return nil, fmt.Errorf("%d characters is longer than the maximum %d", utf8.RuneCountInString(s), a.Size)
		}
		if a.DataType == domain.Enum && utf8.RuneCountInString(s) > 32 {
			return nil, fmt.Errorf("an enum code is at most 32 characters")
		}
		return s, nil
	case domain.Int, domain.BigInt, domain.ID, domain.EntityT, domain.TimeLog:
		n, err := asInt(v)
		if err != nil {
			return nil, err
		}
		if a.DataType == domain.Int && (n > math.MaxInt32 || n < math.MinInt32) {
			return nil, fmt.Errorf("%d does not fit into a 32-bit Int", n)
		}
		return n, nil
	case domain.Float, domain.Currency:
		return asFloat(v)
	case domain.Boolean:
		b, err := asBool(v)
		if err != nil {
			return nil, err
		}
		if b {
			return int64(1), nil
		}
		return int64(0), nil
	case domain.DateTime, domain.Date:
		t, err := asTime(v)
		if err != nil {
			return nil, err
		}
		return d.FormatTime(t), nil
	case domain.JSON:
		if s, ok := v.(string); ok {
			if !json.Valid([]byte(s)) {
				return nil, fmt.Errorf("not valid JSON text")
			}
			return s, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case domain.BLOB:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want base64 text, got %s", kind(v))
		}
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("%s values cannot be stored", a.DataType)
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int64, float64, int, json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func asString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("want a string, got %s", kind(v))
}

func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > maxSafeInt {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("want an integer, got %s", kind(v))
}

func asFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Errorf("%q is not a number", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %s", kind(v))
}

func asBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case float64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(x) {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("want 0, 1, true or false, got %v", v)
}

func asTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		return dialect.ParseTime(x)
	case time.Time:
		return dialect.TruncateTime(x), nil
	}
	return time.Time{}, fmt.Errorf("want an ISO-8601 date string, got %s", kind(v))
}

// fromDB brings a scanned value into the wire form of dataType: int64 for integers and
// Booleans (0/1), float64, string, time.Time (UTC), json.RawMessage for Json, []byte for
// BLOB, nil for NULL.
func fromDB(dt domain.DataType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch dt {
	case domain.Int, domain.BigInt, domain.ID, domain.EntityT, domain.TimeLog, domain.Boolean:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case float64:
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		case []byte:
			return strconv.ParseInt(string(x), 10, 64)
		}
	case domain.Float, domain.Currency:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			return strconv.ParseFloat(x, 64)
		case []byte:
			return strconv.ParseFloat(string(x), 64)
		}
	case domain.DateTime, domain.Date:
		switch x := v.(type) {
		case time.Time:
			return dialect.TruncateTime(x), nil
		case string:
			return dialect.ParseTime(x)
		case []byte:
			return dialect.ParseTime(string(x))
		}
	case domain.JSON:
		switch x := v.(type) {
		case string:
			return json.RawMessage(x), nil
		case []byte:
			return json.RawMessage(append([]byte(nil), x...)), nil
		default:
			b, err := json.Marshal(x)
			return json.RawMessage(b), err
		}
	case domain.BLOB:
		switch x := v.(type) {
		case []byte:
			return append([]byte(nil), x...), nil
		case string:
			return []byte(x), nil
		}
	default: // String, Text, Enum, Document, Many
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case time.Time:
			return x.UTC().Format(dialect.TimeFormat), nil
		}
	}
	return nil, fmt.Errorf("cannot read a %T as %s", v, dt)
}
