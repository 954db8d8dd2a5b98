package main

// Each lab host serves guest file transfers itself, as ESXi does: through
// vCenter, InitiateFileTransferToGuest/FromGuest return a URL naming the
// ESXi host that runs the VM (its inventory name, which usually does not
// resolve from the client), and that host presents its own certificate,
// self-signed or signed by the VMCA, not the vCenter's.
//
// Host N listens on its management address (vmk0, HostAddress(N): 127.10.x.y,
// all of 127.0.0.0/8 being loopback on Linux) with a self-signed ECDSA
// certificate made at start for its name and address. The certificate's
// SHA-1 thumbprint is the host's summary.config.sslThumbprint, so a client
// can pin it as govc does
// (guest.FileManager.TransferURL). All hosts share one port, the vCenter's
// when it is free on their addresses (ESXi hosts all use 443).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// hostEndpoint is one host's HTTPS server for guest file transfers.
type hostEndpoint struct {
	host       types.ManagedObjectReference
	name       string // inventory name, as transfer URLs give it
	ip         string // management address (vmk0)
	thumbprint string // SHA-1 of the certificate, AA:BB:... as vSphere shows it
	cert       tls.Certificate
	srv        *http.Server
	done       chan struct{}
}

// thumbprintSHA1 formats a certificate's SHA-1 as vSphere does
// (HostSystem summary.config.sslThumbprint): upper-case hex pairs and colons.
func thumbprintSHA1(der []byte) string {
	sum := sha1.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// hostCertificate makes host name's self-signed certificate for ip.
func hostCertificate(name, ip string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"vhpc-sim test lab ESXi host"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{name},
		IPAddresses:           []net.IP{net.ParseIP(ip)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// vmk0Address is the host's management address.
func vmk0Address(h *simulator.HostSystem) string {
	for _, nic := range h.Config.Network.Vnic {
		if nic.Device == "vmk0" && nic.Spec.Ip != nil {
			return nic.Spec.Ip.IpAddress
		}
	}
	return ""
}

// serveHosts gives every host its certificate and starts its endpoint.
func (l *Lab) serveHosts() error {
	l.hostEPs = make(map[string]*hostEndpoint)
	var eps []*hostEndpoint
	for _, h := range l.hosts {
		ep := &hostEndpoint{host: h.Self, name: h.Name, ip: vmk0Address(h)}
		if net.ParseIP(ep.ip) == nil {
			return fmt.Errorf("host %s has no vmk0 address", h.Name)
		}
		cert, err := hostCertificate(ep.name, ep.ip)
		if err != nil {
			return err
		}
		ep.cert, ep.thumbprint = cert, thumbprintSHA1(cert.Certificate[0])
		// config.certificate stays the stock value: govmomi encodes byte arrays
		// as text, which pyVmomi cannot read as xsd:byte[] (reading config fails).
		simulator.Map.WithLock(h, func() { h.Summary.Config.SslThumbprint = ep.thumbprint })
		eps = append(eps, ep)
		l.hostEPs[h.Self.Value] = ep
	}
	listeners, err := listenShared(eps, l.Port())
	if err != nil {
		return err
	}
	for i, ep := range eps {
		ep.start(l, listeners[i])
	}
	if len(listeners) > 0 {
		l.hostPortNum = listeners[0].Addr().(*net.TCPAddr).Port
	}
	return nil
}

// listenShared listens on every endpoint's address with one port: first
// the preferred one, else a free port of the first address that the others
// have free too.
func listenShared(eps []*hostEndpoint, preferred int) ([]net.Listener, error) {
	try := func(port int) ([]net.Listener, error) {
		var out []net.Listener
		for _, ep := range eps {
			ln, err := net.Listen("tcp", net.JoinHostPort(ep.ip, strconv.Itoa(port)))
			if err != nil {
				for _, o := range out {
					o.Close()
				}
				return nil, err
			}
			if port == 0 {
				port = ln.Addr().(*net.TCPAddr).Port
			}
			out = append(out, ln)
		}
		return out, nil
	}
	if len(eps) == 0 {
		return nil, nil
	}
	if lns, err := try(preferred); err == nil {
		return lns, nil
	}
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		var lns []net.Listener
		if lns, err = try(0); err == nil {
			return lns, nil
		}
	}
	return nil, fmt.Errorf("host endpoints: %v", err)
}

func (ep *hostEndpoint) start(l *Lab, ln net.Listener) {
	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{ep.cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/guestFile", func(w http.ResponseWriter, r *http.Request) { l.serveGuestFile(w, r, ep.host) })
	ep.srv = &http.Server{Handler: mux, TLSConfig: tlsConf, ErrorLog: log.New(quietTLSErrors{}, "", log.LstdFlags)}
	ep.done = make(chan struct{})
	go func() {
		defer close(ep.done)
		if err := ep.srv.Serve(tls.NewListener(ln, tlsConf)); err != nil && err != http.ErrServerClosed {
			log.Printf("host %s: %v", ep.name, err)
		}
	}()
}

func (l *Lab) closeHosts() {
	for _, ep := range l.hostEPs {
		if ep.srv == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := ep.srv.Shutdown(ctx); err != nil {
			_ = ep.srv.Close()
		}
		cancel()
		<-ep.done
	}
}

// HostPort is the port every host's endpoint listens on.
func (l *Lab) HostPort() int { return l.hostPortNum }

// transferURL is the URL of a guest file transfer on the endpoint of the
// host running the VM: the host's inventory name, as vCenter gives it.
func (l *Lab) hostTransferURL(host types.ManagedObjectReference, token string) (string, bool) {
	ep := l.hostEPs[host.Value]
	if ep == nil {
		return "", false
	}
	return fmt.Sprintf("https://%s:%d/guestFile?id=%s", ep.name, l.hostPortNum, token), true
}
