package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io/ioutil"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vmware/govmomi/guest"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// pinnedHTTP is an HTTPS client that trusts exactly the certificate whose
// SHA-1 thumbprint is thumbprint, as govc does for ESXi hosts.
func pinnedHTTP(t *testing.T, thumbprint string) *http.Client {
	conf := &tls.Config{
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || thumbprintSHA1(raw[0]) != thumbprint {
				return fmt.Errorf("certificate does not match thumbprint %s", thumbprint)
			}
			return nil
		},
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
}

// hostThumbprint is summary.config.sslThumbprint of vm's host.
func (e *labEnv) hostThumbprint(vm *object.VirtualMachine) string {
	var m mo.VirtualMachine
	if err := vm.Properties(e.ctx, vm.Reference(), []string{"runtime.host"}, &m); err != nil {
		e.t.Fatal(err)
	}
	var h mo.HostSystem
	if err := object.NewHostSystem(e.c.Client, *m.Runtime.Host).Properties(e.ctx, *m.Runtime.Host,
		[]string{"summary.config.sslThumbprint"}, &h); err != nil {
		e.t.Fatal(err)
	}
	return h.Summary.Config.SslThumbprint
}

// Every host: its own certificate on its management address (vmk0, the
// selected management adapter), with the thumbprint and certificate the
// inventory shows; the vCenter's CA does not vouch for it.
func TestHostCertificatesAndAddresses(t *testing.T) {
	e := newLabEnv(t)
	seen := map[string]bool{}
	vcenterCA := caPool(t, readConf(t)["ca_file"])
	for _, n := range []int{1, 2, NumNamedHosts + 1} {
		var h mo.HostSystem
		host := e.host(n)
		if err := host.Properties(e.ctx, host.Reference(), []string{"summary.config.sslThumbprint",
			"config.network.vnic", "config.virtualNicManagerInfo"}, &h); err != nil {
			t.Fatal(err)
		}
		tp := h.Summary.Config.SslThumbprint
		if len(tp) != 59 || seen[tp] {
			t.Errorf("host %d thumbprint %q (seen before: %v)", n, tp, seen[tp])
		}
		seen[tp] = true
		if ip := h.Config.Network.Vnic[0].Spec.Ip.IpAddress; h.Config.Network.Vnic[0].Device != "vmk0" || ip != HostAddress(n) {
			t.Errorf("host %d vmk0 %s", n, ip)
		}
		var mgmt []string
		for _, nc := range h.Config.VirtualNicManagerInfo.NetConfig {
			if nc.NicType == "management" {
				for _, v := range nc.CandidateVnic {
					if len(nc.SelectedVnic) == 1 && v.Key == nc.SelectedVnic[0] {
						mgmt = append(mgmt, v.Device+" "+v.Spec.Ip.IpAddress)
					}
				}
			}
		}
		if len(mgmt) != 1 || mgmt[0] != "vmk0 "+HostAddress(n) {
			t.Errorf("host %d management adapters %v", n, mgmt)
		}

		// The endpoint on the management address presents that certificate.
		addr := net.JoinHostPort(HostAddress(n), strconv.Itoa(testLab.HostPort()))
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("host %d endpoint %s: %v", n, addr, err)
		}
		cert := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		if thumbprintSHA1(cert.Raw) != tp || cert.Subject.CommonName != HostName(n) {
			t.Errorf("host %d presents %s (%s), inventory says %s", n, thumbprintSHA1(cert.Raw), cert.Subject.CommonName, tp)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: vcenterCA, DNSName: HostName(n)}); err == nil {
			t.Errorf("host %d certificate verifies against the vCenter CA", n)
		}
	}
}

// Through vCenter, a transfer URL names the VM's host (inventory name, the
// hosts' shared port) and only that host's endpoint serves it.
func TestTransferURLNamesTheVMsHost(t *testing.T) {
	e := newLabEnv(t)
	vm, err := e.clone("xfer-host-3", e.host(3), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	e.waitTools(vm)
	fm, err := guest.NewOperationsManager(e.c.Client, vm.Reference()).FileManager(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	auth := &types.NamePasswordAuthentication{Username: DefaultGuestUser, Password: DefaultGuestPassword}
	raw, err := fm.InitiateFileTransferToGuest(e.ctx, auth, "/tmp/x", &types.GuestPosixFileAttributes{}, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if u.Hostname() != HostName(3) || u.Port() != strconv.Itoa(testLab.HostPort()) || u.Path != "/guestFile" {
		t.Fatalf("transfer URL %s", raw)
	}
	put := func(hc *http.Client, host string) int {
		v := *u
		v.Host = host
		resp, err := hc.Do(mustRequest(t, http.MethodPut, v.String(), "hi"))
		if err != nil {
			t.Fatalf("PUT %s: %v", v.String(), err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	port := strconv.Itoa(testLab.HostPort())
	// Not on the vCenter's address, nor another host's.
	conf := readConf(t)
	if code := put(labHTTP(t), conf["server"]+":"+conf["port"]); code != http.StatusNotFound {
		t.Errorf("vCenter served the transfer: %d", code)
	}
	var other mo.HostSystem
	if err := e.host(4).Properties(e.ctx, e.host(4).Reference(), []string{"summary.config.sslThumbprint"}, &other); err != nil {
		t.Fatal(err)
	}
	if code := put(pinnedHTTP(t, other.Summary.Config.SslThumbprint), net.JoinHostPort(HostAddress(4), port)); code != http.StatusNotFound {
		t.Errorf("host 4 served host 3's transfer: %d", code)
	}
	// The VM's host, reached at its management address with its pin.
	if code := put(pinnedHTTP(t, e.hostThumbprint(vm)), net.JoinHostPort(HostAddress(3), port)); code != http.StatusOK {
		t.Errorf("host 3: %d", code)
	}
	// govc's way (guest.FileManager.TransferURL): the management address.
	u2, err := fm.TransferURL(e.ctx, raw)
	if err != nil || u2.Host != net.JoinHostPort(HostAddress(3), port) {
		t.Errorf("TransferURL %v %v", u2, err)
	}
	if data, err := ioutil.ReadFile(filepath.Join(testLab.guestOps.root, "xfer-host-3", "tmp", "x")); err != nil || string(data) != "hi" {
		t.Errorf("guest file %q %v", data, err)
	}
}
