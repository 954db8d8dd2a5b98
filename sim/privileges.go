package main

// Least-privilege users (README "Privileges"): --deny-privilege PRIV
// (repeatable) and POST /debug/privileges make every call that needs PRIV
// fail as vCenter fails it for a user whose role lacks it: a NoPermission
// SOAP fault naming the privilege (privilegeId) and the object it is checked
// on (object), raised by the call itself, before any task, with the message
// "Permission to perform this operation was denied.".
//
// The privileges are those the vSphere API reference lists under "Required
// Privileges" for each method (for ReconfigVM_Task: per property of the
// spec; only extraConfig is modelled). A method missing from the table
// needs no privilege here.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// privilegeRule is the privilege a method needs and where vCenter checks it.
type privilegeRule struct {
	privilege string
	on        string // "this" (the call's object), "root" (the root folder), or an argument's name
}

const anyType = "*"

// methodPrivileges: {_this type or "*", method} -> the privilege it needs.
var methodPrivileges = map[routeKey]privilegeRule{
	// CustomFieldsManager: definitions are global (checked on the root folder), values per entity.
	{anyType, "AddCustomFieldDef"}:    {"Global.ManageCustomFields", "root"},
	{anyType, "RemoveCustomFieldDef"}: {"Global.ManageCustomFields", "root"},
	{anyType, "RenameCustomFieldDef"}: {"Global.ManageCustomFields", "root"},
	{anyType, "SetField"}:             {"Global.SetCustomField", "entity"},
	{anyType, "setCustomValue"}:       {"Global.SetCustomField", "this"},

	{"VirtualMachine", "CloneVM_Task"}:                        {"VirtualMachine.Provisioning.Clone", "this"},
	{"VirtualMachine", "CustomizeVM_Task"}:                    {"VirtualMachine.Provisioning.Customize", "this"},
	{"VirtualMachine", "MarkAsTemplate"}:                      {"VirtualMachine.Provisioning.MarkAsTemplate", "this"},
	{"VirtualMachine", "PowerOnVM_Task"}:                      {"VirtualMachine.Interact.PowerOn", "this"},
	{"VirtualMachine", "PowerOffVM_Task"}:                     {"VirtualMachine.Interact.PowerOff", "this"},
	{"VirtualMachine", "Destroy_Task"}:                        {"VirtualMachine.Inventory.Delete", "this"},
	{"VirtualMachine", "CreateSnapshot_Task"}:                 {"VirtualMachine.State.CreateSnapshot", "this"},
	{"Folder", "CreateFolder"}:                                {"Folder.Create", "this"},
	{"Folder", "Destroy_Task"}:                                {"Folder.Delete", "this"},
	{"Folder", "CreateDVS_Task"}:                              {"DVSwitch.Create", "this"},
	{"VmwareDistributedVirtualSwitch", "ReconfigureDvs_Task"}: {"DVSwitch.Modify", "this"},
	{"DistributedVirtualSwitch", "ReconfigureDvs_Task"}:       {"DVSwitch.Modify", "this"},
	{"VmwareDistributedVirtualSwitch", "Destroy_Task"}:        {"DVSwitch.Delete", "this"},
	{"DistributedVirtualSwitch", "Destroy_Task"}:              {"DVSwitch.Delete", "this"},
	{"VmwareDistributedVirtualSwitch", "AddDVPortgroup_Task"}: {"DVPortgroup.Create", "this"},
	{"DistributedVirtualSwitch", "AddDVPortgroup_Task"}:       {"DVPortgroup.Create", "this"},
	{"DistributedVirtualPortgroup", "Destroy_Task"}:           {"DVPortgroup.Delete", "this"},
	// A host's networking: checked on the host.
	{"HostNetworkSystem", "AddVirtualSwitch"}:    {"Host.Config.Network", "host"},
	{"HostNetworkSystem", "RemoveVirtualSwitch"}: {"Host.Config.Network", "host"},
	{"HostNetworkSystem", "UpdateVirtualSwitch"}: {"Host.Config.Network", "host"},
	{"HostNetworkSystem", "AddPortGroup"}:        {"Host.Config.Network", "host"},
	{"HostNetworkSystem", "RemovePortGroup"}:     {"Host.Config.Network", "host"},
	{"HostNetworkSystem", "UpdatePortGroup"}:     {"Host.Config.Network", "host"},
	{"HostNetworkSystem", "AddVirtualNic"}:       {"Host.Config.Network", "host"},
	{"HostNetworkSystem", "RemoveVirtualNic"}:    {"Host.Config.Network", "host"},
	{"HostNetworkSystem", "UpdateNetworkConfig"}: {"Host.Config.Network", "host"},
}

// advancedConfig is the privilege ReconfigVM_Task needs for spec.extraConfig.
const advancedConfig = "VirtualMachine.Config.AdvancedConfig"

// labPrivileges holds the denied privileges and how many calls they refused.
type labPrivileges struct {
	mu      sync.Mutex
	denied  map[string]bool
	refused int
}

func newLabPrivileges(denied []string) *labPrivileges {
	p := &labPrivileges{denied: map[string]bool{}}
	for _, d := range denied {
		p.denied[d] = true
	}
	return p
}

// isDenied says whether priv is denied, counting the refusal.
func (p *labPrivileges) isDenied(priv string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.denied[priv] {
		p.refused++
		return true
	}
	return false
}

// privilegeFlags is the flag value of --deny-privilege (repeatable).
type privilegeFlags []string

func (f *privilegeFlags) String() string { return strings.Join(*f, ",") }

func (f *privilegeFlags) Set(s string) error {
	if s == "" || strings.ContainsAny(s, " \t,") || !strings.Contains(s, ".") {
		return fmt.Errorf("%q: want a vSphere privilege id such as Global.ManageCustomFields", s)
	}
	*f = append(*f, s)
	return nil
}

// requiredPrivilege is the privilege call needs and the object it is
// checked on; ok is false when the call needs none the lab models.
func requiredPrivilege(call soapCall, body []byte, root types.ManagedObjectReference) (string, types.ManagedObjectReference, bool) {
	this := types.ManagedObjectReference{Type: call.thisType, Value: call.thisVal}
	rule, ok := methodPrivileges[routeKey{call.thisType, call.method}]
	if !ok {
		rule, ok = methodPrivileges[routeKey{anyType, call.method}]
	}
	if !ok && call.thisType == "VirtualMachine" && call.method == "ReconfigVM_Task" && specHas(body, "extraConfig") {
		return advancedConfig, this, true
	}
	if !ok {
		return "", this, false
	}
	switch rule.on {
	case "this":
		return rule.privilege, this, true
	case "root":
		return rule.privilege, root, true
	case "host":
		if host := hostOfNetworkSystem(this); host != nil {
			return rule.privilege, *host, true
		}
		return rule.privilege, this, true
	default:
		if ref, found := argRef(body, rule.on); found {
			return rule.privilege, ref, true
		}
		return rule.privilege, this, true
	}
}

// hostOfNetworkSystem is the host whose HostNetworkSystem ref is.
func hostOfNetworkSystem(ref types.ManagedObjectReference) *types.ManagedObjectReference {
	for _, e := range simulator.Map.All("HostSystem") {
		if h, ok := e.(*simulator.HostSystem); ok && h.ConfigManager.NetworkSystem != nil && *h.ConfigManager.NetworkSystem == ref {
			self := h.Self
			return &self
		}
	}
	return nil
}

// argRef is a top-level managed-object argument of a SOAP call (SetField's entity).
func argRef(body []byte, name string) (types.ManagedObjectReference, bool) {
	var ref types.ManagedObjectReference
	found := false
	walkArgs(body, func(d *xml.Decoder, se xml.StartElement) bool {
		if se.Name.Local != name {
			return false
		}
		for _, a := range se.Attr {
			if a.Name.Local == "type" {
				ref.Type = a.Value
			}
		}
		var v string
		if d.DecodeElement(&v, &se) == nil {
			ref.Value, found = strings.TrimSpace(v), true
		}
		return true
	})
	return ref, found
}

// specHas says whether the call's spec argument has a child element named child.
func specHas(body []byte, child string) bool {
	has := false
	walkArgs(body, func(d *xml.Decoder, se xml.StartElement) bool {
		if se.Name.Local != "spec" {
			return false
		}
		depth := 0
		for {
			tok, err := d.Token()
			if err != nil {
				return true
			}
			switch t := tok.(type) {
			case xml.StartElement:
				depth++
				if depth == 1 && t.Name.Local == child {
					has = true
					return true
				}
			case xml.EndElement:
				if depth == 0 {
					return true
				}
				depth--
			}
		}
	})
	return has
}

// walkArgs calls visit for each argument element of a SOAP call (Envelope >
// Body > Method > argument) until visit returns true.
func walkArgs(body []byte, visit func(*xml.Decoder, xml.StartElement) bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 4 {
				if visit(d, t) {
					return
				}
				depth-- // visit consumed the element (or skip it)
				if err := d.Skip(); err != nil {
					return
				}
			}
		case xml.EndElement:
			depth--
		}
	}
}

// refusePrivilege answers call with vCenter's NoPermission when it needs a
// denied privilege; false when the call may go on.
func (l *Lab) refusePrivilege(w http.ResponseWriter, call soapCall, body []byte) bool {
	if call.method == "" {
		return false
	}
	priv, object, ok := requiredPrivilege(call, body, l.model.ServiceContent.RootFolder)
	if !ok || !l.privileges.isDenied(priv) {
		return false
	}
	fault := &types.NoPermission{Object: object, PrivilegeId: priv}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, soapFaultEnvelope(fault, "Permission to perform this operation was denied."))
	return true
}

type privilegesReport struct {
	Denied  []string `json:"denied"`
	Refused int      `json:"refused"`
}

// serveDebugPrivileges: GET shows the denied privileges and the calls they
// refused; POST {"denied": [...]} replaces them (and zeroes the count);
// POST ?reset=1 denies nothing.
func (l *Lab) serveDebugPrivileges(w http.ResponseWriter, r *http.Request) {
	p := l.privileges
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var next privilegesReport
		if r.URL.Query().Get("reset") == "" {
			if err := json.NewDecoder(r.Body).Decode(&next); err != nil {
				http.Error(w, "want JSON {\"denied\": [PRIVILEGE, ...]}: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		var flags privilegeFlags
		for _, d := range next.Denied {
			if err := flags.Set(d); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		p.mu.Lock()
		p.denied, p.refused = newLabPrivileges(flags).denied, 0
		p.mu.Unlock()
	default:
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	rep := privilegesReport{Denied: []string{}, Refused: p.refused}
	for d := range p.denied {
		rep.Denied = append(rep.Denied, d)
	}
	p.mu.Unlock()
	sort.Strings(rep.Denied)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rep)
}
