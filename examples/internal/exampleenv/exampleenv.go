// Package exampleenv is the setup the example programs share: a vendor's
// credentials from the environment, or, without them, an in-process
// livestattest fake with sample data. Each program's main still makes its
// own livestat.Client from an Env: that is the part to copy.
package exampleenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// Env is a vendor's credentials and base URL, as the environment gives
// them.
type Env struct {
	// ID and Secret are the app's credentials (WeCom corp ID and app
	// secret, Nuoyun app key and secret); both are empty offline.
	ID, Secret string
	// BaseURL is the API's scheme and host: the environment's, or
	// livestat's default when it names none.
	BaseURL string

	idVar, secretVar string
}

// WeCom reads WECOM_CORP_ID, WECOM_CORP_SECRET and WECOM_BASE_URL.
func WeCom(getenv func(string) string) (Env, error) {
	return read(getenv, "WECOM_CORP_ID", "WECOM_CORP_SECRET", "WECOM_BASE_URL", livestat.DefaultWeComBaseURL)
}

// Nuoyun reads NUOYUN_APP_KEY, NUOYUN_APP_SECRET and NUOYUN_BASE_URL.
func Nuoyun(getenv func(string) string) (Env, error) {
	return read(getenv, "NUOYUN_APP_KEY", "NUOYUN_APP_SECRET", "NUOYUN_BASE_URL", livestat.DefaultNuoyunBaseURL)
}

// read reads the credentials idVar and secretVar, and baseVar (default
// base). Half the credentials is a mistake, not a reason to run offline.
func read(getenv func(string) string, idVar, secretVar, baseVar, base string) (Env, error) {
	e := Env{ID: getenv(idVar), Secret: getenv(secretVar), BaseURL: getenv(baseVar), idVar: idVar, secretVar: secretVar}
	if (e.ID == "") != (e.Secret == "") {
		return Env{}, fmt.Errorf("set both %s and %s, or neither", idVar, secretVar)
	}
	if e.BaseURL == "" {
		e.BaseURL = base
	}
	return e, nil
}

// Offline reports whether the environment holds no credentials, so that
// the program runs against a fake server.
func (e Env) Offline() bool { return e.ID == "" }

// Fake says on w that the program runs offline against a fake server with
// sample (the rest of the line), and starts that server with opts. Close
// it when done.
func (e Env) Fake(w io.Writer, sample string, opts livestattest.Options) *livestattest.Server {
	fmt.Fprintf(w, "No %s/%s: using a fake server with %s\n", e.idVar, e.secretVar, sample)
	return livestattest.New(opts)
}

// Main runs an example program: realMain with the process's arguments,
// standard output and environment, under a context that an interrupt
// (Ctrl-C) cancels. When realMain fails, Main prints the error after the
// program's name and exits with status 1.
func Main(name string, realMain func(ctx context.Context, args []string, w io.Writer, getenv func(string) string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
