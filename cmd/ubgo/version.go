package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/ubgo/ubgo/version"
)

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) exitCode {
	fs := newFlagSet("version", stderr)
	if code := parse(fs, args); code >= 0 {
		return code
	}
	fmt.Fprintf(stdout, "ubgo %s (UnityBase %s compatible, %s %s/%s)\n", version.Version, version.UBCompat,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}
