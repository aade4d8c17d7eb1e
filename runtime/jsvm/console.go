package jsvm

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// newConsole builds console: each method writes one slog record at its level, with the
// model and file:line of the calling script as attributes. (goja_nodejs/console knows only
// three streams and prints objects as "[object Object]".)
func (w *Worker) newConsole() *goja.Object {
	c := w.vm.NewObject()
	for _, m := range []struct {
		name  string
		level slog.Level
	}{
		{"log", slog.LevelInfo}, {"info", slog.LevelInfo}, {"warn", slog.LevelWarn},
		{"error", slog.LevelError}, {"debug", slog.LevelDebug}, {"trace", slog.LevelDebug},
	} {
		_ = c.Set(m.name, w.consoleMethod(m.level))
	}
	return c
}

func (w *Worker) consoleMethod(level slog.Level) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		ctx := context.Background()
		if w.call != nil {
			ctx = w.call.ctx
		}
		// Formatting may be expensive (JSON of big objects): skip it when the level is off.
		if !w.prog.log.Enabled(ctx, level) {
			return goja.Undefined()
		}
		attrs := make([]any, 0, 2)
		for _, fr := range w.vm.CaptureCallStack(0, nil) {
			if m, rel, ok := w.prog.splitModulePath(fr.SrcName()); ok {
				line, _ := userPosition(fr.Position().Line, fr.Position().Column)
				attrs = append(attrs, slog.String("model", m.name), slog.String("file", m.display(rel)+":"+strconv.Itoa(line)))
				break
			}
		}
		w.prog.log.Log(ctx, level, w.format(call.Arguments), attrs...)
		return goja.Undefined()
	}
}

// format implements the common subset of Node's console formatting: a first string
// argument may hold %s %d %i %f %j %o %O %%; the other arguments follow, separated by
// spaces, objects as JSON.
func (w *Worker) format(args []goja.Value) string {
	if len(args) == 0 {
		return ""
	}
	var b strings.Builder
	rest := args
	if goja.IsString(args[0]) {
		first := args[0].String()
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
			if !strings.ContainsRune("sdifjoO", rune(verb)) || len(rest) == 0 {
				b.WriteByte(ch)
				continue
			}
			arg := rest[0]
			rest = rest[1:]
			i++
			switch verb {
			case 's':
				b.WriteString(w.display(arg, false))
			case 'd', 'i', 'f':
				b.WriteString(arg.ToNumber().String())
			default:
				b.WriteString(w.display(arg, true))
			}
		}
	} else {
		b.WriteString(w.display(args[0], true))
		rest = args[1:]
	}
	for _, a := range rest {
		b.WriteByte(' ')
		b.WriteString(w.display(a, true))
	}
	return b.String()
}

// display renders one console argument: strings as they are, errors with their stack,
// other objects as JSON when they have a JSON form.
func (w *Worker) display(v goja.Value, objectsAsJSON bool) (s string) {
	defer func() {
		// A throwing toString or getter must not fail the call over a log line.
		if x := recover(); x != nil {
			s = "[unprintable value]"
		}
	}()
	o, isObj := v.(*goja.Object)
	if !isObj {
		return w.safeString(v)
	}
	if _, isFunc := goja.AssertFunction(o); isFunc {
		if name := w.safeString(o.Get("name")); name != "" {
			return "[Function: " + name + "]"
		}
		return "[Function (anonymous)]"
	}
	if o.ClassName() == "Error" {
		if stack := w.safeString(o.Get("stack")); stack != "" {
			return stack
		}
	}
	if objectsAsJSON {
		if js, err := w.api.jsonStringify(goja.Undefined(), o); err == nil && goja.IsString(js) {
			return js.String()
		}
	}
	return w.safeString(o)
}
