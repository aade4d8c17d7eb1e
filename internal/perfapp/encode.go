package perfapp

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/ubgo/ubgo/ubql"
)

// The handlers write their JSON by hand, as a hand-tuned Go service would: the baseline
// should be the fastest honest handler, not one that pays for reflection.

// appendWorld appends {"ID":id,"randomNumber":n}, what JSON.stringify gives for a World
// row read with selectById in the JS twin.
func appendWorld(b []byte, id, n int64) []byte {
	b = append(b, `{"ID":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"randomNumber":`...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, '}')
}

// appendObject appends one result row as an object keyed by field name (selectAsObject).
func appendObject(b []byte, fields []string, row []any) []byte {
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = ubql.AppendJSONString(b, f)
		b = append(b, ':')
		var v any
		if i < len(row) {
			v = row[i]
		}
		b = appendValue(b, v)
	}
	return append(b, '}')
}

// appendValue appends a store cell: nil, bool, int64, float64, string, time.Time,
// json.RawMessage or []byte.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case string:
		return ubql.AppendJSONString(b, x)
	case time.Time:
		b = append(b, '"')
		b = x.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		return append(b, '"')
	case json.RawMessage:
		return append(b, x...)
	default:
		enc, err := json.Marshal(x)
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, enc...)
	}
}
