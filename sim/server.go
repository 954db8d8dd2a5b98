package main

// HTTP side of the lab: TLS certificate, the listener, SOAP call counting,
// per-call latency, the /debug endpoints, and routing of the SOAP methods
// the lab implements itself (routes.go).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/xml"
)

type labServer struct {
	addr    *net.TCPAddr
	ip      net.IP
	certPEM []byte
	http    *http.Server
	inner   *http.ServeMux
	done    chan struct{}
}

// serve starts the HTTPS server on l.opts.Listen.
func (l *Lab) serve() error {
	ln, err := net.Listen("tcp", l.opts.Listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().(*net.TCPAddr)
	ip := listenIP(addr)

	cert, certPEM, err := newCertificate(ip)
	if err != nil {
		ln.Close()
		return err
	}
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}

	hostPort := net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port))
	svc := l.model.Service
	svc.TLS = tlsConf
	svc.Listen = &url.URL{
		Scheme: "https",
		Host:   hostPort,
		Path:   simulator.Map.Path,
		User:   url.UserPassword(LabUser, LabPassword),
	}

	// The stock handlers, on a mux of our own (as simulator.Service.NewServer
	// would wire them), behind our wrapper.
	inner := http.NewServeMux()
	svc.ServeMux = inner
	svc.RegisterSDK(simulator.Map) // /sdk
	inner.HandleFunc(simulator.Map.Path+"/vimServiceVersions.xml", svc.ServiceVersions)
	inner.HandleFunc("/folder/", svc.ServeDatastore)
	inner.HandleFunc("/nfc/", simulator.ServeNFC)
	inner.HandleFunc("/about", svc.About)
	// The lab's own endpoints (README "Extra endpoints"): no SOAP, no login.
	inner.HandleFunc("/debug/calls", l.serveCalls)
	if !l.opts.Stock { // stock.go
		l.installHookRegistry(svc)                                // routes.go: hookPath
		inner.HandleFunc("/debug/sriov", l.serveDebugSriov)       // rules_debug.go
		inner.HandleFunc("/debug/passthru", l.serveDebugPassthru) // rules_debug.go
		inner.HandleFunc("/debug/graphics", l.serveDebugGraphics) // rules_debug.go
		inner.HandleFunc("/debug/guestops", l.serveDebugGuestOps) // guest_debug.go
		inner.HandleFunc("/debug/faults", l.serveDebugFaults)     // faults.go

		inner.HandleFunc("/debug/privileges", l.serveDebugPrivileges) // privileges.go
		// host_state.go, host_thumbprints.go, network_dvs_manager.go
		inner.HandleFunc("/debug/reboot", l.serveDebugReboot)
		inner.HandleFunc("/debug/thumbprint", l.serveDebugThumbprint)
		inner.HandleFunc("/debug/dvs-versions", l.serveDebugDVSVersions)
		inner.HandleFunc("/debug/admission", l.serveDebugAdmission)
	}

	sm := simulator.Map.SessionManager()
	sm.ServiceHostName = hostPort
	sm.TLSCert = func() string { return base64.StdEncoding.EncodeToString(cert.Certificate[0]) }

	s := &labServer{addr: addr, ip: ip, certPEM: certPEM, inner: inner, done: make(chan struct{})}
	s.http = &http.Server{
		Handler:   http.HandlerFunc(l.serveHTTP),
		TLSConfig: tlsConf,
		ErrorLog:  log.New(quietTLSErrors{}, "", log.LstdFlags),
	}
	l.srv = s
	go l.watchSessions(s.done) // sessions.go: idle expiry
	go func() {
		defer close(s.done)
		if err := s.http.Serve(tls.NewListener(ln, tlsConf)); err != nil && err != http.ErrServerClosed {
			log.Printf("serve: %v", err)
		}
	}()
	return nil
}

func (s *labServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
	}
	<-s.done
}

func (l *Lab) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if refuseHookPath(w, r) {
		return
	}
	if r.URL.Path == simulator.Map.Path && r.Method == http.MethodPost {
		body, err := ioutil.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		call := parseSOAPCall(body)
		if l.faults.shouldDrop() { // faults.go: --drop-connections
			dropConnection(w)
			return
		}
		l.calls.add(call.method)
		if l.opts.LatencyMs > 0 {
			time.Sleep(time.Duration(l.opts.LatencyMs) * time.Millisecond)
		}
		answered, done := l.sessionCall(w, r, call) // sessions.go
		if answered {
			return
		}
		defer done(w.Header())
		if l.refusePrivilege(w, call, body) { // privileges.go: --deny-privilege
			return
		}
		if l.injectFault(w, call, body) { // faults.go: --fail-method
			return
		}
		body, path := l.route(call, body) // routes.go
		if path != "" {
			r.URL.Path, r.URL.RawPath = path, ""
		}
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		if !l.opts.Stock {
			w = quoteSessionCookie(w) // session_cookie.go
		}
		l.serveSOAP(w, r, call)
		return
	}
	l.srv.inner.ServeHTTP(w, r)
}

// serveSOAP hands a SOAP call to the simulator and turns a panic in the
// simulator into a SOAP answer rather than a dropped connection. The stock
// PropertyCollector.Fetch (which pyVmomi uses for every attribute read)
// panics on an unset property such as VirtualMachine.snapshot; vCenter
// answers such a Fetch with an empty FetchResponse (None in pyVmomi).
func (l *Lab) serveSOAP(w http.ResponseWriter, r *http.Request, call soapCall) {
	tw := &trackingWriter{ResponseWriter: w}
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler || tw.started {
			panic(p)
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		if call.method == "Fetch" && !l.opts.Stock {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, soapEnvelope(`<FetchResponse xmlns="urn:vim25"></FetchResponse>`))
			return
		}
		log.Printf("panic in %s: %v\n%s", call.method, p, debug.Stack())
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, soapEnvelope(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode>`+
			`<faultstring>vhpc-sim internal error in `+html.EscapeString(call.method)+`</faultstring>`+
			`<detail><SystemErrorFault xmlns="urn:vim25" xsi:type="SystemError"><reason>simulator panic</reason></SystemErrorFault></detail>`+
			`</soapenv:Fault>`))
	}()
	l.srv.inner.ServeHTTP(tw, r)
}

func soapEnvelope(body string) string {
	return xml.Header + `<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"` +
		` xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"` +
		` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`
}

// trackingWriter records whether a response has been started.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.started = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(p []byte) (int, error) {
	t.started = true
	return t.ResponseWriter.Write(p)
}

// soapCall is what the lab needs to know about a SOAP request.
type soapCall struct {
	method   string // e.g. "RetrievePropertiesEx"; "" if the body could not be parsed
	thisType string // _this type attribute, e.g. "VirtualMachine"
	thisVal  string // _this value, e.g. "vm-42"
}

// parseSOAPCall finds the method element (the first child of the SOAP Body)
// and its _this argument.
func parseSOAPCall(body []byte) soapCall {
	var c soapCall
	d := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := d.Token()
		if err != nil {
			return c
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case !inBody:
			inBody = se.Name.Local == "Body"
		case c.method == "":
			c.method = se.Name.Local
		default:
			if se.Name.Local == "_this" {
				for _, a := range se.Attr {
					if a.Name.Local == "type" {
						c.thisType = a.Value
					}
				}
				var v string
				if d.DecodeElement(&v, &se) == nil {
					c.thisVal = strings.TrimSpace(v)
				}
			}
			return c
		}
	}
}

// callCounter counts SOAP calls by method name.
type callCounter struct {
	mu      sync.Mutex
	total   int
	methods map[string]int
}

func newCallCounter() *callCounter { return &callCounter{methods: make(map[string]int)} }

func (c *callCounter) add(method string) {
	if method == "" {
		method = "(unparsed)"
	}
	c.mu.Lock()
	c.total++
	c.methods[method]++
	c.mu.Unlock()
}

type callsReport struct {
	Total   int            `json:"total"`
	Methods map[string]int `json:"methods"`
}

// snapshot returns the counts, and resets them when reset is true.
func (c *callCounter) snapshot(reset bool) callsReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	rep := callsReport{Total: c.total, Methods: make(map[string]int, len(c.methods))}
	for k, v := range c.methods {
		rep.Methods[k] = v
	}
	if reset {
		c.total = 0
		c.methods = make(map[string]int)
	}
	return rep
}

func (l *Lab) serveCalls(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	reset := r.URL.Query().Get("reset")
	rep := l.calls.snapshot(reset != "" && reset != "0" && reset != "false")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rep)
}

// newCertificate makes a self-signed ECDSA P-256 certificate for ip,
// 127.0.0.1 and localhost.
func newCertificate(ip net.IP) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ski := sha1.Sum(pub)
	ips := []net.IP{ip}
	if !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		ips = append(ips, net.IPv4(127, 0, 0, 1))
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: ip.String(), Organization: []string{"vhpc-sim test lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           ips,
		DNSNames:              []string{"localhost"},
		SubjectKeyId:          ski[:],
		AuthorityKeyId:        ski[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}

// quietTLSErrors passes the http.Server's error log to the standard logger,
// except TLS handshake errors (clients probing the port are not news).
type quietTLSErrors struct{}

func (quietTLSErrors) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte("TLS handshake error")) {
		log.Print(string(p))
	}
	return len(p), nil
}
