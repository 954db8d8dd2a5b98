package main

import (
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func soapBody(method, this, args string) []byte {
	return []byte(`<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` +
		`<` + method + ` xmlns="urn:vim25">` + this + args + `</` + method + `></soapenv:Body></soapenv:Envelope>`)
}

// The privilege a call needs and the object it is checked on, read from the call itself.
func TestRequiredPrivilege(t *testing.T) {
	root := types.ManagedObjectReference{Type: "Folder", Value: "group-d1"}
	cases := []struct {
		call   soapCall
		args   string
		priv   string
		object string
	}{
		{soapCall{"AddCustomFieldDef", "CustomFieldsManager", "CustomFieldsManager"}, `<name>x</name>`,
			"Global.ManageCustomFields", "group-d1"},
		{soapCall{"SetField", "CustomFieldsManager", "CustomFieldsManager"},
			`<entity type="HostSystem">host-21</entity><key>3</key><value>v</value>`, "Global.SetCustomField", "host-21"},
		{soapCall{"ReconfigVM_Task", "VirtualMachine", "vm-9"},
			`<spec><numCPUs>2</numCPUs><extraConfig><key>a</key><value xsi:type="xsd:string">b</value></extraConfig></spec>`,
			"VirtualMachine.Config.AdvancedConfig", "vm-9"},
		{soapCall{"ReconfigVM_Task", "VirtualMachine", "vm-9"},
			`<spec><numCPUs>2</numCPUs><deviceChange><device><extraConfig/></device></deviceChange></spec>`, "", ""},
		{soapCall{"Destroy_Task", "DistributedVirtualPortgroup", "dvportgroup-3"}, ``, "DVPortgroup.Delete", "dvportgroup-3"},
		{soapCall{"RetrievePropertiesEx", "PropertyCollector", "propertyCollector"}, `<specSet/>`, "", ""},
	}
	for _, c := range cases {
		this := `<_this type="` + c.call.thisType + `">` + c.call.thisVal + `</_this>`
		priv, object, ok := requiredPrivilege(c.call, soapBody(c.call.method, this, c.args), root)
		if ok != (c.priv != "") || priv != c.priv || (ok && object.Value != c.object) {
			t.Errorf("%s on %s: got %q on %v (%v), want %q on %s", c.call.method, c.call.thisType, priv, object, ok, c.priv, c.object)
		}
	}
	// A body that is no SOAP at all needs nothing (and never panics).
	if _, _, ok := requiredPrivilege(soapCall{"ReconfigVM_Task", "VirtualMachine", "vm-9"}, []byte("<<<"), root); ok {
		t.Error("a garbled ReconfigVM_Task body should need no modelled privilege")
	}
}

func TestDenyPrivilegeFlag(t *testing.T) {
	var f privilegeFlags
	for _, bad := range []string{"", "nodot", "Global.A,Global.B", "Global ManageCustomFields"} {
		if f.Set(bad) == nil {
			t.Errorf("--deny-privilege %q accepted", bad)
		}
	}
	if f.Set("Global.SetCustomField") != nil || len(f) != 1 {
		t.Errorf("a privilege id refused: %v", f)
	}
}
