package config

import (
	"errors"
	"strconv"
	"strings"
)

// Error is a configuration problem located in a file.
type Error struct {
	File      string // file the user wrote (main config, an included file, a ubConfig-partial.json, a package.json, the .env file)
	Line, Col int    // 1-based position in that file as the user wrote it (0 when unknown, e.g. a value created by defaults)
	Pointer   string // JSON pointer in the final config ("" when not applicable)
	Msg       string
}

// Error renders the problem as "file:line:col: /json/pointer: message", omitting the missing parts.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
			if e.Col > 0 {
				b.WriteByte(':')
				b.WriteString(strconv.Itoa(e.Col))
			}
		}
		b.WriteString(": ")
	}
	if e.Pointer != "" {
		b.WriteString(e.Pointer)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns the *Error values inside err (as returned by Load), in order.
// A foreign error is wrapped into an *Error carrying only its message.
func Errors(err error) []*Error {
	if err == nil {
		return nil
	}
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			for _, x := range u.Unwrap() {
				walk(x)
			}
			return
		}
		var e *Error
		if errors.As(err, &e) {
			out = append(out, e)
			return
		}
		out = append(out, &Error{Msg: err.Error()})
	}
	walk(err)
	return out
}

// joinErrors turns a list of *Error into one error (nil when empty).
func joinErrors(list []*Error) error {
	if len(list) == 0 {
		return nil
	}
	errs := make([]error, len(list))
	for i, e := range list {
		errs[i] = e
	}
	return errors.Join(errs...)
}
