package metahook

import (
	"log/slog"
	"math"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// newConsole builds the console object. goja_nodejs/console knows only
// three output streams and prints objects as "[object Object]", so hooks get
// a small console of our own that maps each method to a slog level.
func (r *runner) newConsole() *goja.Object {
	c := r.vm.NewObject()
	for name, level := range map[string]slog.Level{
		"log":   slog.LevelInfo,
		"info":  slog.LevelInfo,
		"warn":  slog.LevelWarn,
		"error": slog.LevelError,
		"debug": slog.LevelDebug,
	} {
		_ = c.Set(name, r.consoleMethod(level))
	}
	return c
}

func (r *runner) consoleMethod(level slog.Level) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		// Formatting can be expensive (JSON of whole entities); skip it when
		// the level is off.
		if !r.log.Enabled(r.ctx, level) {
			return goja.Undefined()
		}
		model := ""
		if r.cur != nil {
			model = r.cur.Model
		}
		r.log.Log(r.ctx, level, r.format(call.Arguments), slog.String("model", model))
		return goja.Undefined()
	}
}

// format implements the usual subset of Node's console formatting: a first
// string argument may contain %s %d %i %f %j %o %O %c %%; other arguments
// are appended separated by spaces, objects as JSON.
func (r *runner) format(args []goja.Value) string {
	if len(args) == 0 {
		return ""
	}
	var b strings.Builder
	rest := args
	if first, ok := args[0].Export().(string); ok && !isObject(args[0]) {
		rest = args[1:]
		for i := 0; i < len(first); i++ {
			ch := first[i]
			if ch != '%' || i+1 == len(first) {
				b.WriteByte(ch)
				continue
			}
			verb := first[i+1]
			if verb == '%' {
				b.WriteByte('%')
				i++
				continue
			}
			if !strings.ContainsRune("sdifjoOc", rune(verb)) || len(rest) == 0 {
				b.WriteByte(ch)
				continue
			}
			arg := rest[0]
			rest = rest[1:]
			i++
			switch verb {
			case 's':
				b.WriteString(r.display(arg, false))
			case 'd', 'f':
				b.WriteString(arg.ToNumber().String())
			case 'i':
				if n := arg.ToNumber().ToFloat(); !math.IsNaN(n) && !math.IsInf(n, 0) {
					b.WriteString(strconv.FormatFloat(math.Trunc(n), 'f', -1, 64))
				} else {
					b.WriteString(arg.ToNumber().String())
				}
			case 'j', 'o', 'O':
				b.WriteString(r.display(arg, true))
			case 'c': // CSS styling: meaningless in a log, consumed like Node does
			}
		}
	} else {
		b.WriteString(r.display(args[0], true))
		rest = args[1:]
	}
	for _, a := range rest {
		b.WriteByte(' ')
		b.WriteString(r.display(a, true))
	}
	return b.String()
}

// display renders one console argument. Strings are printed as they are;
// objects and arrays as JSON when possible, since that is what a reader of
// the server log wants to see of a piece of domain JSON.
func (r *runner) display(v goja.Value, objectsAsJSON bool) (s string) {
	defer func() {
		// A throwing toString or getter must not break the hook over a log line.
		if x := recover(); x != nil {
			s = "[unprintable value]"
		}
	}()
	if o, ok := v.(*goja.Object); ok {
		if _, isFunc := goja.AssertFunction(o); isFunc {
			name := o.Get("name")
			if name != nil && name.String() != "" {
				return "[Function: " + name.String() + "]"
			}
			return "[Function (anonymous)]"
		}
		if o.ClassName() == "Error" {
			if stack := o.Get("stack"); stack != nil && !goja.IsUndefined(stack) {
				return stack.String()
			}
			return o.String()
		}
		if objectsAsJSON {
			if js, err := r.stringify(o); err == nil && js != "" {
				return js
			}
		}
	}
	return v.String()
}

func isObject(v goja.Value) bool {
	_, ok := v.(*goja.Object)
	return ok
}
