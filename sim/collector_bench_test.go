package main

// The cost of one update calculation of the lab's WaitForUpdatesEx
// (collector.go) with thousands of VMs and hundreds of tasks in flight,
// shaped like a cluster --create: 512 tasks watched in 256 filters (a
// client that adds tasks in batches and never destroys a filter), a
// ListView filter over every VM (the guest IP wait), and per call 32
// tasks ending, 32 guests reporting an address and one new task.
//
//	cd sim && GOPATH=/usr/share/gocode GO111MODULE=off go test -run '^$' -bench Collector -benchtime 200x .
//
// The stock simulator re-collected all 2,500 watched objects for each of
// the 65 changes and each of the 257 filters: about 40 million object
// reads per call. The lab reads the one new object and walks the view once
// (it re-walks a traversal when an object enters the inventory).

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	benchVMs     = 2000
	benchTasks   = 512
	benchPerCall = 32
)

var (
	benchVMsOnce sync.Once
	benchVMRefs  []types.ManagedObjectReference
	benchVMsErr  error
)

// benchInventory adds benchVMs VMs to the test lab (once per test binary).
func benchInventory(b *testing.B) []types.ManagedObjectReference {
	benchVMsOnce.Do(func() {
		ctx := context.Background()
		c := testLab.client
		dc := simulator.Map.Any("Datacenter").(*simulator.Datacenter)
		folder := object.NewFolder(c, dc.VmFolder)
		var hosts []*simulator.HostSystem
		for _, h := range simulator.Map.All("HostSystem") {
			hosts = append(hosts, h.(*simulator.HostSystem))
		}
		cluster := simulator.Map.Any("ClusterComputeResource").(*simulator.ClusterComputeResource)
		pool := object.NewResourcePool(c, *cluster.ResourcePool)
		for i := 0; i < benchVMs; i++ {
			spec := types.VirtualMachineConfigSpec{
				Name: fmt.Sprintf("bench-collector-vm-%04d", i), GuestId: "otherLinux64Guest", NumCPUs: 1, MemoryMB: 1024,
				Files: &types.VirtualMachineFileInfo{VmPathName: fmt.Sprintf("[%s]", DatastoreName)},
			}
			host := object.NewHostSystem(c, hosts[i%len(hosts)].Self)
			task, err := folder.CreateVM(ctx, spec, pool, host)
			if err == nil {
				var info *types.TaskInfo
				if info, err = task.WaitForResult(ctx, nil); err == nil {
					benchVMRefs = append(benchVMRefs, info.Result.(types.ManagedObjectReference))
				}
			}
			if err != nil {
				benchVMsErr = err
				return
			}
		}
	})
	if benchVMsErr != nil {
		b.Fatal(benchVMsErr)
	}
	return benchVMRefs
}

func BenchmarkCollectorWait(b *testing.B) {
	vms := benchInventory(b)
	sess := &simulator.Session{UserSession: types.UserSession{Key: fmt.Sprintf("bench-%d", b.N)}, Registry: simulator.NewRegistry()}
	ctx := &simulator.Context{Context: context.Background(), Session: sess, Map: simulator.Map}
	pc := sess.Put(&simulator.PropertyCollector{}).(*simulator.PropertyCollector)
	hook := &collectorHook{}
	hook.Self = types.ManagedObjectReference{Type: collectorHookType, Value: pc.Self.Value}
	defer hook.DestroyPropertyCollector(ctx, &types.DestroyPropertyCollector{This: pc.Self})

	newTask := func() *simulator.Task {
		return simulator.CreateTask(simulator.Map.Get(vms[0]), "labBench", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			return nil, nil
		})
	}
	tasks := make([]*simulator.Task, benchTasks)
	for i := range tasks {
		tasks[i] = newTask()
	}
	for i := 0; i < len(tasks); i += 2 {
		pc.CreateFilter(ctx, &types.CreateFilter{This: pc.Self, Spec: types.PropertyFilterSpec{
			ObjectSet: []types.ObjectSpec{{Obj: tasks[i].Self}, {Obj: tasks[i+1].Self}},
			PropSet:   []types.PropertySpec{{Type: "Task", PathSet: []string{"info.state", "info.error", "info.result"}}},
		}})
	}
	res := simulator.Map.ViewManager().CreateListView(ctx, &types.CreateListView{Obj: vms}).(*methods.CreateListViewBody)
	if res.Fault_ != nil {
		b.Fatal(res.Fault_.String)
	}
	view := res.Res.Returnval
	defer sess.Remove(view)
	pc.CreateFilter(ctx, &types.CreateFilter{This: pc.Self, Spec: types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: view, Skip: types.NewBool(true), SelectSet: []types.BaseSelectionSpec{
			&types.TraversalSpec{Type: "ListView", Path: "view", Skip: types.NewBool(false)},
		}}},
		PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: []string{"guest.ipAddress", "guest.toolsRunningStatus"}}},
	}})

	lst := listenerFor(ctx, pc)
	if set, fault := lst.calculate(ctx, pc, true); fault != nil || len(set.FilterSet) != benchTasks/2+1 {
		b.Fatalf("initial calculation: %v, %d filter updates", fault, len(set.FilterSet))
	}
	walked0, read0 := atomic.LoadInt64(&collectorWork.walked), atomic.LoadInt64(&collectorWork.read)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := 0; j < benchPerCall; j++ {
			tk := tasks[(i*benchPerCall+j)%len(tasks)]
			simulator.Map.Update(tk, []types.PropertyChange{{Name: "info.state", Val: types.TaskInfoStateSuccess}})
			vm := simulator.Map.Get(vms[(i*benchPerCall+j)%len(vms)])
			simulator.Map.Update(vm, []types.PropertyChange{{Name: "guest.ipAddress", Val: fmt.Sprintf("10.1.%d.%d", i%250, j)}})
		}
		newTask()
		b.StartTimer()
		set, fault := lst.calculate(ctx, pc, false)
		if fault != nil || len(set.FilterSet) == 0 {
			b.Fatalf("calculation %d: %v, %+v", i, fault, set)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(atomic.LoadInt64(&collectorWork.walked)-walked0)/float64(b.N), "walked/op")
	b.ReportMetric(float64(atomic.LoadInt64(&collectorWork.read)-read0)/float64(b.N), "read/op")
}
