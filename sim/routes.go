package main

// The SOAP methods the lab implements itself, in one table, and how calls
// reach them.
//
// govmomi's simulator dispatches a call to the Go method of the object its
// registry holds under the call's _this, and its own code type-asserts the
// real objects (e.g. *simulator.VirtualMachine), so they cannot be wrapped
// in place. For a routed method serveHTTP (server.go) retypes _this to the
// route's hook type (VirtualMachine vm-42 -> LabVirtualMachine vm-42) and
// hands the call to the SDK endpoint hookPath, whose registry holds only the
// lab's hook objects. A hook thus receives the call with the simulator's
// session handling and fault and response encoding, and works on the real
// object.
//
// The hooks are never in simulator.Map: inventory walks (SearchIndex, views,
// the PropertyCollector, /about) cannot meet them. The simulator gives a
// call on hookPath a Context whose Map is the hooks' registry; a hook's
// target() points it back at simulator.Map before any stock code sees it.
//
// Adding a route: one line in routes (and the method on the hook type).

import (
	"net/http"
	"regexp"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// hookPath is the SDK endpoint of the hooks' registry; clients cannot use it.
const hookPath = "/sdk/vhpc-lab-hooks"

// hookKind is one kind of hook object: the type _this is retyped to, the
// registry type of the real objects, and how to make a hook.
type hookKind struct {
	labType  string
	realType string
	newHook  func() hookObject
	// perSession: the real objects live in the sessions' registries (property
	// collectors), not in the inventory; the hook finds the caller's own.
	perSession bool
}

var (
	vmHooks         = &hookKind{labType: "LabVirtualMachine", realType: "VirtualMachine", newHook: func() hookObject { return new(vmHook) }}
	datacenterHooks = &hookKind{labType: "LabDatacenter", realType: "Datacenter", newHook: func() hookObject { return new(dcHook) }}
	hostNetHooks    = &hookKind{labType: "LabHostNetworkSystem", realType: "HostNetworkSystem", newHook: func() hookObject { return new(netHostHook) }}
	folderHooks     = &hookKind{labType: "LabFolder", realType: "Folder", newHook: func() hookObject { return new(netFolderHook) }}
	// The simulator registers VMware switches under DistributedVirtualSwitch.
	dvsHooks       = &hookKind{labType: "LabDistributedVirtualSwitch", realType: "DistributedVirtualSwitch", newHook: func() hookObject { return new(netDVSHook) }}
	portgroupHooks = &hookKind{labType: "LabDistributedVirtualPortgroup", realType: "DistributedVirtualPortgroup", newHook: func() hookObject { return new(netPortgroupHook) }}
	searchHooks    = &hookKind{labType: "LabSearchIndex", realType: "SearchIndex", newHook: func() hookObject { return new(searchHook) }}
	taskHooks      = &hookKind{labType: "LabTask", realType: "Task", newHook: func() hookObject { return new(taskHook) }}
	firewallHooks  = &hookKind{labType: "LabHostFirewallSystem", realType: "HostFirewallSystem", newHook: func() hookObject { return new(firewallHook) }}
	collectorHooks = &hookKind{labType: "LabPropertyCollector", realType: "PropertyCollector",
		newHook: func() hookObject { return new(collectorHook) }, perSession: true}
	clusterHooks = &hookKind{labType: "LabClusterComputeResource", realType: "ClusterComputeResource", newHook: func() hookObject { return new(clusterHook) }}
	sessionHooks = &hookKind{labType: "LabSessionManager", realType: "SessionManager", newHook: func() hookObject { return new(sessionHook) }}
	fieldsHooks  = &hookKind{labType: "LabCustomFieldsManager", realType: "CustomFieldsManager", newHook: func() hookObject { return new(fieldsHook) }}
	// task_history.go, events_query.go
	taskManagerHooks  = &hookKind{labType: "LabTaskManager", realType: "TaskManager", newHook: func() hookObject { return new(taskManagerHook) }}
	eventManagerHooks = &hookKind{labType: "LabEventManager", realType: "EventManager", newHook: func() hookObject { return new(eventManagerHook) }}
	hostHooks         = &hookKind{labType: "LabHostSystem", realType: "HostSystem", newHook: func() hookObject { return new(hostHook) }}
)

// routeKey is a method as clients call it: _this's type and the method.
type routeKey struct{ thisType, method string }

// routes are the methods the lab implements itself.
var routes = map[routeKey]*hookKind{
	{"VirtualMachine", "CloneVM_Task"}:         vmHooks, // hooks.go, network_vm.go
	{"VirtualMachine", "CustomizeVM_Task"}:     vmHooks, // hooks.go
	{"VirtualMachine", "PowerOnVM_Task"}:       vmHooks, // hooks.go
	{"VirtualMachine", "ReconfigVM_Task"}:      vmHooks, // hooks.go, network_vm.go
	{"VirtualMachine", "PowerOffVM_Task"}:      vmHooks, // tasks.go
	{"VirtualMachine", "Destroy_Task"}:         vmHooks, // tasks.go, vanish.go
	{"VirtualMachine", "MarkAsTemplate"}:       vmHooks, // templates.go
	{"VirtualMachine", "MarkAsVirtualMachine"}: vmHooks,
	{"VirtualMachine", "RebootGuest"}:          vmHooks, // guest_power.go
	{"VirtualMachine", "ShutdownGuest"}:        vmHooks,
	{"VirtualMachine", "UnregisterVM"}:         vmHooks, // vm_register.go
	{"Folder", "RegisterVM_Task"}:              folderHooks,

	{"Task", "CancelTask"}:                          taskHooks,    // tasks.go
	{"SessionManager", "TerminateSession"}:          sessionHooks, // sessions.go
	{"CustomFieldsManager", "AddCustomFieldDef"}:    fieldsHooks,  // custom_fields.go
	{"CustomFieldsManager", "SetField"}:             fieldsHooks,
	{"CustomFieldsManager", "RemoveCustomFieldDef"}: fieldsHooks,
	{"Folder", "CreateVM_Task"}:                     folderHooks, // names.go

	{"VirtualMachine", "CreateSnapshot_Task"}: vmHooks, // templates.go
	{"VirtualMachine", "RelocateVM_Task"}:     vmHooks, // vm_move.go
	{"VirtualMachine", "MigrateVM_Task"}:      vmHooks, // vm_move.go
	{"VirtualMachine", "InstantClone_Task"}:   vmHooks, // vm_instantclone.go
	{"VirtualMachine", "UpgradeVM_Task"}:      vmHooks, // vm_hardware_version.go

	{"Datacenter", "PowerOnMultiVM_Task"}: datacenterHooks, // rules_multi.go

	{"HostNetworkSystem", "AddVirtualSwitch"}:    hostNetHooks, // network_host.go
	{"HostNetworkSystem", "AddPortGroup"}:        hostNetHooks,
	{"HostNetworkSystem", "RemovePortGroup"}:     hostNetHooks,
	{"HostNetworkSystem", "RemoveVirtualSwitch"}: hostNetHooks,
	{"HostNetworkSystem", "AddVirtualNic"}:       hostNetHooks, // network_vnic.go
	{"HostNetworkSystem", "RemoveVirtualNic"}:    hostNetHooks,
	{"HostNetworkSystem", "UpdateVirtualNic"}:    hostNetHooks, // network_vnic_ip.go

	{"HostFirewallSystem", "EnableRuleset"}:  firewallHooks, // firewall.go
	{"HostFirewallSystem", "DisableRuleset"}: firewallHooks,

	{"Folder", "CreateDVS_Task"}: folderHooks, // network_dvs.go

	{"DistributedVirtualSwitch", "ReconfigureDvs_Task"}:       dvsHooks, // network_dvs.go
	{"DistributedVirtualSwitch", "AddDVPortgroup_Task"}:       dvsHooks,
	{"DistributedVirtualSwitch", "Destroy_Task"}:              dvsHooks,
	{"VmwareDistributedVirtualSwitch", "ReconfigureDvs_Task"}: dvsHooks,
	{"VmwareDistributedVirtualSwitch", "AddDVPortgroup_Task"}: dvsHooks,
	{"VmwareDistributedVirtualSwitch", "Destroy_Task"}:        dvsHooks,

	{"DistributedVirtualPortgroup", "Destroy_Task"}:                portgroupHooks, // network_dvs.go
	{"DistributedVirtualPortgroup", "ReconfigureDVPortgroup_Task"}: portgroupHooks, // dvs_portgroups.go
	{"DistributedVirtualSwitch", "FetchDVPorts"}:                   dvsHooks,
	{"VmwareDistributedVirtualSwitch", "FetchDVPorts"}:             dvsHooks,

	{"SearchIndex", "FindAllByUuid"}:       searchHooks, // search.go
	{"SearchIndex", "FindByUuid"}:          searchHooks,
	{"SearchIndex", "FindAllByIp"}:         searchHooks,
	{"SearchIndex", "FindByIp"}:            searchHooks,
	{"SearchIndex", "FindAllByDnsName"}:    searchHooks,
	{"SearchIndex", "FindByDnsName"}:       searchHooks,
	{"SearchIndex", "FindByDatastorePath"}: searchHooks,

	{"Task", "CancelTask"}: taskHooks, // slow_tasks.go

	{"PropertyCollector", "WaitForUpdatesEx"}:             collectorHooks, // collector.go
	{"PropertyCollector", "WaitForUpdates"}:               collectorHooks,
	{"PropertyCollector", "CancelWaitForUpdates"}:         collectorHooks,
	{"PropertyCollector", "DestroyPropertyCollector"}:     collectorHooks,
	{"PropertyCollector", "RetrievePropertiesEx"}:         collectorHooks, // collector_pages.go
	{"PropertyCollector", "ContinueRetrievePropertiesEx"}: collectorHooks,
	{"PropertyCollector", "CancelRetrievePropertiesEx"}:   collectorHooks,
	{"PropertyCollector", "CreateFilter"}:                 collectorHooks, // collector_validate.go
	{"PropertyCollector", "RetrieveProperties"}:           collectorHooks,

	{"ClusterComputeResource", "ReconfigureComputeResource_Task"}: clusterHooks,      // drs_rules.go
	{"ClusterComputeResource", "GetResourceUsage"}:                clusterHooks,      // cluster_config.go
	{"TaskManager", "CreateCollectorForTasks"}:                    taskManagerHooks,  // task_history.go
	{"EventManager", "QueryEvents"}:                               eventManagerHooks, // events_query.go

	{"HostSystem", "EnterMaintenanceMode_Task"}: hostHooks, // host_state.go
	{"HostSystem", "ExitMaintenanceMode_Task"}:  hostHooks,
	{"HostSystem", "RebootHost_Task"}:           hostHooks,
}

// labHook is embedded by every hook: its reference is {kind's labType,
// real object's value}.
type labHook struct {
	mo.ExtensibleManagedObject
	lab  *Lab
	real types.ManagedObjectReference
}

// hookObject is a hook: a type embedding labHook.
type hookObject interface {
	mo.Reference
	base() *labHook
}

func (h *labHook) base() *labHook { return h }

// Lock and Unlock make the simulator's per-object locking a no-op for
// hooks: they lock the real objects themselves.
func (*labHook) Lock()   {}
func (*labHook) Unlock() {}

// target returns the real object (nil once it is gone) and points ctx at
// the inventory. Every hook method calls it first.
func (h *labHook) target(ctx *simulator.Context) mo.Reference {
	ctx.Map = simulator.Map
	return simulator.Map.Get(h.real)
}

// hookRegistry holds the hook objects, served at hookPath.
type hookRegistry struct {
	mu  sync.Mutex
	reg *simulator.Registry
}

func newHookRegistry() *hookRegistry {
	reg := simulator.NewRegistry()
	reg.Path = hookPath
	return &hookRegistry{reg: reg}
}

// ensure registers the hook of kind for real unless it exists.
func (r *hookRegistry) ensure(l *Lab, kind *hookKind, real types.ManagedObjectReference) {
	ref := types.ManagedObjectReference{Type: kind.labType, Value: real.Value}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reg.Get(ref) != nil {
		return
	}
	h := kind.newHook()
	b := h.base()
	b.Self, b.lab, b.real = ref, l, real
	r.reg.Put(h)
}

// drop removes a hook whose real object went without the inventory knowing
// (a session's property collector).
func (r *hookRegistry) drop(ref types.ManagedObjectReference) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reg.Get(ref) != nil {
		r.reg.Remove(ref)
	}
}

// The hooks' registry follows the inventory (a simulator.RegisterObject on
// simulator.Map): a real object's hooks go with it.

func (r *hookRegistry) PutObject(mo.Reference)                            {}
func (r *hookRegistry) UpdateObject(mo.Reference, []types.PropertyChange) {}

func (r *hookRegistry) RemoveObject(real types.ManagedObjectReference) {
	for _, kind := range hookKinds() {
		if kind.realType != real.Type {
			continue
		}
		ref := types.ManagedObjectReference{Type: kind.labType, Value: real.Value}
		r.mu.Lock()
		if r.reg.Get(ref) != nil {
			r.reg.Remove(ref)
		}
		r.mu.Unlock()
	}
}

// Reference makes the registry a RegisterObject (Registry.AddHandler keys
// handlers by reference).
func (r *hookRegistry) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "LabHookRegistry", Value: "lab-hook-registry"}
}

func hookKinds() []*hookKind {
	seen := map[*hookKind]bool{}
	var out []*hookKind
	for _, k := range routes {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// installHookRegistry serves the hooks' registry at hookPath (on svc's
// mux) and has it follow the inventory.
func (l *Lab) installHookRegistry(svc *simulator.Service) {
	l.hooks = newHookRegistry()
	svc.RegisterSDK(l.hooks.reg)
	simulator.Map.AddHandler(l.hooks)
}

// route returns the body of call c to hand to the simulator and the path
// to serve it on: for a routed method on an existing object, _this retyped
// to the hook and hookPath; otherwise body unchanged and "" (an unknown
// object is the simulator's ManagedObjectNotFound).
func (l *Lab) route(c soapCall, body []byte) ([]byte, string) {
	if l.hooks == nil {
		return body, "" // --stock: nothing is routed (stock.go)
	}
	kind := routes[routeKey{c.thisType, c.method}]
	if kind == nil || c.thisVal == "" {
		return body, ""
	}
	real := types.ManagedObjectReference{Type: kind.realType, Value: c.thisVal}
	if !kind.perSession && simulator.Map.Get(real) == nil {
		return body, ""
	}
	routed, ok := rewriteThisType(body, c.thisType, kind.labType)
	if !ok {
		return body, "" // no _this element the lab can retype
	}
	l.hooks.ensure(l, kind, real)
	return routed, hookPath
}

// refuseHookPath answers a client's own request to hookPath: it is not an
// endpoint of vCenter.
func refuseHookPath(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != hookPath {
		return false
	}
	http.NotFound(w, r)
	return true
}

var (
	thisTypeMu sync.Mutex
	thisTypeRE = map[string]*regexp.Regexp{}
)

// thisTypePattern matches the _this element's type attribute with value typ.
func thisTypePattern(typ string) *regexp.Regexp {
	thisTypeMu.Lock()
	defer thisTypeMu.Unlock()
	re := thisTypeRE[typ]
	if re == nil {
		q := regexp.QuoteMeta(typ)
		re = regexp.MustCompile(`(<(?:[\w.-]+:)?_this\b[^>]*?\btype\s*=\s*)(?:"` + q + `"|'` + q + `')`)
		thisTypeRE[typ] = re
	}
	return re
}

// rewriteThisType replaces the _this type attribute (value from) by to;
// false if body has no such attribute.
func rewriteThisType(body []byte, from, to string) ([]byte, bool) {
	loc := thisTypePattern(from).FindSubmatchIndex(body)
	if loc == nil {
		return body, false
	}
	out := make([]byte, 0, len(body)+len(to))
	out = append(out, body[:loc[3]]...)
	out = append(out, `"`+to+`"`...)
	return append(out, body[loc[1]:]...), true
}
