package main

// The session cookie as vCenter sets it: the value in double quotes, with
// its path and the HttpOnly and Secure flags,
//
//	Set-Cookie: vmware_soap_session="52a0...e6e7"; Path=/; HttpOnly; Secure
//
// (as clients that parse it by hand meet it: pyVmomi's SimpleCookie, the
// Cookie header a client copies for a datastore or guest file transfer).
// The stock simulator sent vmware_soap_session=KEY; HttpOnly. Clients send
// the cookie back quoted or not; both name the session.

import (
	"net/http"
	"strings"
)

// quotedCookieWriter rewrites the session's Set-Cookie before the answer's
// header is written.
type quotedCookieWriter struct {
	http.ResponseWriter
	done bool
}

func quoteSessionCookie(w http.ResponseWriter) http.ResponseWriter {
	return &quotedCookieWriter{ResponseWriter: w}
}

func (q *quotedCookieWriter) rewrite() {
	if q.done {
		return
	}
	q.done = true
	h := q.Header()
	cookies := h.Values("Set-Cookie")
	if len(cookies) == 0 {
		return
	}
	h.Del("Set-Cookie")
	for _, c := range cookies {
		if strings.HasPrefix(c, sessionCookie+"=") {
			value := strings.SplitN(strings.TrimPrefix(c, sessionCookie+"="), ";", 2)[0]
			c = sessionCookie + `="` + strings.Trim(value, `"`) + `"; Path=/; HttpOnly; Secure`
		}
		h.Add("Set-Cookie", c)
	}
}

func (q *quotedCookieWriter) WriteHeader(code int) {
	q.rewrite()
	q.ResponseWriter.WriteHeader(code)
}

func (q *quotedCookieWriter) Write(p []byte) (int, error) {
	q.rewrite()
	return q.ResponseWriter.Write(p)
}
