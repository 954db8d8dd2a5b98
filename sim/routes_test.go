package main

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Every route's hook has the Go method the simulator dispatches the call
// to (Foo_Task -> FooTask), taking the call's Context.
func TestRoutesHaveHookMethods(t *testing.T) {
	for key, kind := range routes {
		name := strings.TrimSuffix(key.method, "_Task")
		if name != key.method {
			name += "Task"
		}
		m := reflect.ValueOf(kind.newHook()).MethodByName(name)
		if !m.IsValid() {
			t.Errorf("%s.%s: hook %s has no method %s", key.thisType, key.method, kind.labType, name)
		} else if m.Type().NumIn() != 2 {
			t.Errorf("%s.%s: %s.%s does not take the call's Context", key.thisType, key.method, kind.labType, name)
		}
	}
}

func TestRewriteThisType(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`<CloneVM_Task><_this type="VirtualMachine">vm-1</_this>`, `<CloneVM_Task><_this type="LabVirtualMachine">vm-1</_this>`},
		{`<ns0:_this xsi:type="ns1:x" type='VirtualMachine'>vm-1</ns0:_this>`, `<ns0:_this xsi:type="ns1:x" type="LabVirtualMachine">vm-1</ns0:_this>`},
		{`<_this type="VirtualMachineX">vm-1</_this>`, ""},
		{`<spec type="VirtualMachine"/>`, ""},
	} {
		got, ok := rewriteThisType([]byte(c.in), "VirtualMachine", "LabVirtualMachine")
		if (c.want == "") == ok || (ok && string(got) != c.want) {
			t.Errorf("%s: %s %v", c.in, got, ok)
		}
	}
}

// The hooks' SDK endpoint is the lab's own: a client gets a 404.
func TestHookPathNotServed(t *testing.T) {
	resp, err := labHTTP(t).Post(labURL(t, hookPath), "text/xml", strings.NewReader(soapEnvelope(
		`<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST %s: %d", hookPath, resp.StatusCode)
	}
}
