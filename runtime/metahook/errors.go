package metahook

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// Error reports a hook that failed to compile or threw.
type Error struct {
	Model        string
	File         string // Dir + "/" + the file inside the model where the error happened (may be a required file, not the hook itself)
	Line, Column int
	Message      string // the JS error message / syntax error reason
	Stack        string // JS stack trace, if any

	cause error // the underlying Go error, e.g. context.DeadlineExceeded for a timeout
}

// Error formats the error as "model M: file:line:col: message", followed by
// the JS stack on the next lines when there is one.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("model ")
	b.WriteString(e.Model)
	b.WriteString(": ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Stack != "" {
		b.WriteByte('\n')
		b.WriteString(e.Stack)
	}
	return b.String()
}

// Unwrap gives access to the cause, so callers can tell a timeout
// (errors.Is(err, context.DeadlineExceeded)) from a broken hook.
func (e *Error) Unwrap() error { return e.cause }

// maxStackFrames bounds the stack text; a stack overflow has thousands of
// identical frames and nobody reads past the first screen.
const maxStackFrames = 30

// newError converts an error returned by goja while running hook h into an
// *Error that points at the model file where it happened. file is the hook
// file, used when the error carries no position of its own.
func (r *runner) newError(h *Hook, file string, err error) *Error {
	e := &Error{Model: h.Model, File: h.displayPath(file), cause: err}
	var frames []goja.StackFrame
	positioned := false

	if ie, ok := errors.AsType[*goja.InterruptedError](err); ok {
		frames = ie.Stack()
		e.Message = "hook interrupted"
		if cause, ok := ie.Value().(error); ok {
			e.cause = cause
			if errors.Is(cause, context.DeadlineExceeded) {
				e.Message = "hook interrupted: timed out"
			}
			e.Message += " (" + cause.Error() + ")"
		} else if ie.Value() != nil {
			e.Message += fmt.Sprintf(" (%v)", ie.Value())
		}
	} else if so, ok := errors.AsType[*goja.StackOverflowError](err); ok {
		frames = so.Stack()
		e.Message = "RangeError: Maximum call stack size exceeded"
	} else if ex, ok := err.(*goja.Exception); ok {
		frames = ex.Stack()
		if me, ok := errors.AsType[*moduleError](ex); ok {
			// Thrown by our require(): either a broken module (position in
			// that file) or a bad request (position of the require call).
			e.Message = me.msg
			positioned = r.applyModulePosition(e, me)
			if me.cause != nil {
				e.cause = me.cause
			}
		} else {
			e.Message = r.exceptionMessage(ex.Value())
		}
	} else if me, ok := errors.AsType[*moduleError](err); ok {
		// The hook file itself is broken (found by loadSource).
		e.Message = me.msg
		positioned = r.applyModulePosition(e, me)
	} else if me := syntaxModuleError(err); me != nil {
		// A compile error that goja found after parsing.
		e.Message = me.msg
		positioned = r.applyModulePosition(e, me)
	} else {
		e.Message = err.Error()
	}

	if !positioned {
		for _, fr := range frames {
			if mh, rel, ok := r.splitModulePath(fr.SrcName()); ok {
				pos := fr.Position()
				e.File = mh.displayPath(rel)
				e.Line, e.Column = userPosition(pos.Line, pos.Column)
				break
			}
		}
	}
	e.Stack = r.formatStack(frames)
	return e
}

// applyModulePosition copies the position of a broken module file into e.
func (r *runner) applyModulePosition(e *Error, me *moduleError) bool {
	if me.file == "" {
		return false
	}
	mh, rel, ok := r.splitModulePath(me.file)
	if !ok {
		return false
	}
	e.File = mh.displayPath(rel)
	e.Line, e.Column = me.line, me.col
	return true
}

// exceptionMessage renders a thrown JS value: "TypeError: msg" for Error
// objects (like Node), the text for a thrown string, JSON for other objects.
// It never lets a misbehaving toString escape as a panic.
func (r *runner) exceptionMessage(v goja.Value) (msg string) {
	if v == nil {
		return "unknown exception"
	}
	defer func() {
		if x := recover(); x != nil {
			msg = "exception (its message cannot be rendered)"
		}
	}()
	if o, ok := v.(*goja.Object); ok && o.ClassName() != "Error" {
		if s, err := r.stringify(o); err == nil && s != "" {
			return "Uncaught " + s
		}
	}
	if ex := r.vm.Try(func() { msg = v.String() }); ex != nil {
		return "exception (its message cannot be rendered)"
	}
	return msg
}

// stringify runs JSON.stringify on v and returns "" for values that have no
// JSON form.
func (r *runner) stringify(v goja.Value) (string, error) {
	fn, ok := goja.AssertFunction(r.vm.Get("JSON").ToObject(r.vm).Get("stringify"))
	if !ok {
		return "", errors.New("JSON.stringify is not a function")
	}
	res, err := fn(goja.Undefined(), v)
	if err != nil {
		return "", err
	}
	if goja.IsUndefined(res) {
		return "", nil
	}
	return res.String(), nil
}

// formatStack renders frames like Node: "    at fn (file:line:col)", with
// model file names shown as the user knows them.
func (r *runner) formatStack(frames []goja.StackFrame) string {
	if len(frames) == 0 {
		return ""
	}
	var b strings.Builder
	for i, fr := range frames {
		if i == maxStackFrames {
			fmt.Fprintf(&b, "    ... %d more frames\n", len(frames)-i)
			break
		}
		b.WriteString("    at ")
		name := fr.FuncName()
		src := fr.SrcName()
		if src == "<native>" {
			// Go functions are named after their Go symbol, e.g.
			// "github.com/ubgo/ubgo/runtime/metahook.(*runner).require-fm";
			// keep only the method name.
			if i := strings.LastIndexByte(name, '.'); i >= 0 && strings.ContainsAny(name, "/()") {
				name = strings.TrimSuffix(name[i+1:], "-fm")
			}
			if name == "" || name == "<native>" {
				b.WriteString("<native>\n")
			} else {
				b.WriteString(name + " (native)\n")
			}
			continue
		}
		pos := fr.Position()
		line, col := pos.Line, pos.Column
		if mh, rel, ok := r.splitModulePath(src); ok {
			src = mh.displayPath(rel)
			line, col = userPosition(line, col)
		}
		loc := src + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col)
		if name == "" {
			b.WriteString(loc + "\n")
		} else {
			b.WriteString(name + " (" + loc + ")\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
