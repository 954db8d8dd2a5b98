package main

// --stock: the govmomi simulator as Debian ships it, on the lab's inventory.
//
// The integration suite runs part of itself against this second server
// (tests/integration/test_stock.py) so the toolkit cannot lean on the lab's
// kindness: the stock simulator, for example, ignores most of a clone's
// spec.config, its spec.location.host and spec.powerOn and still reports
// success, which the toolkit must notice by reading the VMs back.
//
// What stays: the inventory (datacenter, clusters, hosts and their hardware
// tables and addresses, datastore, port group, the template with its
// snapshot, --extra-vms), TLS, the conf file, /debug/calls and the latency
// option. What goes: every routed method (routes.go; the stock ones answer),
// the rules, the guest model (no Tools, no guest IP, no customization), the
// lab's QueryConfigTarget, guest operations, the vCenter MAC addresses and
// PCI slots, /debug/sriov and /debug/passthru, and the answer to a Fetch of
// an unset property (the stock server's panic is a SystemError).
