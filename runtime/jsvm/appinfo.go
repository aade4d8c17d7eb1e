package jsvm

import (
	"context"
)

// EventGetAppInfo is the App event models use to extend the getAppInfo answer
// (App.on('getAppInfo', appInfo => { appInfo.x = ... }), UnityBase 5.22).
const EventGetAppInfo = "getAppInfo"

// ExtendAppInfo runs the App "getAppInfo" listeners on info (the getAppInfo answer as a
// JSON-like map) and returns what they left. It borrows no worker and returns info as it
// is when no model listens.
//
// UnityBase emits the event on every getAppInfo request; ubgo's server calls this once
// when it mounts the models (getAppInfo is the liveness probe of load balancers and
// carries an ETag, so its body must not cost a worker per call). Listeners therefore see
// no session and no request, and must not depend on them; they run as the anonymous user
// without data access.
func (p *Pool) ExtendAppInfo(ctx context.Context, info map[string]any) (map[string]any, error) {
	if !p.prog.HasAppListeners(EventGetAppInfo) {
		return info, nil
	}
	w, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer p.Release(w)
	var out map[string]any
	err = w.guard(ctx, anonymous, nil, func() error {
		obj := w.toJS(info)
		if _, err := w.api.emit(w.api.app, w.vm.ToValue(EventGetAppInfo), obj); err != nil {
			return err
		}
		m, err := w.exportObject(obj, "appInfo")
		if err != nil {
			return internalError("getAppInfo listeners: %v", err)
		}
		out = m
		return nil
	})
	return out, err
}
