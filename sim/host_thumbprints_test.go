package main

import (
	"crypto/tls"
	"net"
	"net/url"
	"strconv"
	"testing"

	"github.com/vmware/govmomi/vim25/mo"
)

// TestThumbprintsInSHA256: /debug/thumbprint makes a host give its
// certificate's SHA-256 (a newer vSphere's form), and back to SHA-1.
func TestThumbprintsInSHA256(t *testing.T) {
	e := newLabEnv(t)
	n := 3
	host := e.host(n)
	read := func() string {
		var h mo.HostSystem
		if err := host.Properties(e.ctx, host.Reference(), []string{"summary.config.sslThumbprint"}, &h); err != nil {
			t.Fatal(err)
		}
		return h.Summary.Config.SslThumbprint
	}
	conn, err := tls.Dial("tcp", net.JoinHostPort(HostAddress(n), strconv.Itoa(testLab.HostPort())),
		&tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	der := conn.ConnectionState().PeerCertificates[0].Raw
	conn.Close()
	if code, body := e.debug("/debug/thumbprint?algorithm=sha256&host=" + url.QueryEscape(HostName(n))); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	defer e.debug("/debug/thumbprint?algorithm=sha1&host=" + url.QueryEscape(HostName(n)))
	if tp := read(); tp != thumbprintSHA256(der) || len(tp) != 95 {
		t.Errorf("SHA-256 thumbprint %q", tp)
	}
	e.debug("/debug/thumbprint?algorithm=sha1&host=" + url.QueryEscape(HostName(n)))
	if tp := read(); tp != thumbprintSHA1(der) {
		t.Errorf("back to SHA-1: %q", tp)
	}
	if code, _ := e.debug("/debug/thumbprint?algorithm=md5&host=x"); code != 400 {
		t.Errorf("md5: %d", code)
	}
	if code, _ := e.debug("/debug/thumbprint?algorithm=sha256&host=no-such-host"); code != 404 {
		t.Errorf("unknown host: %d", code)
	}
}
