package main

// Faults of the lab's rules, and their messages on failed tasks.
//
// Each rule fault carries its text in MethodFault.faultMessage (and in
// GenericVmConfigFault.reason). The stock Task.Run sets a failed task's
// info.error.localizedMessage to the Go type name ("*types.InvalidDeviceSpec");
// setTaskFaultMessage replaces it with the fault's text, which is what
// pyVmomi shows as fault.msg.

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const faultKeyPrefix = "com.vmware.vhpc.lab."

// withMessage puts msg on f's faultMessage.
func withMessage(f types.BaseMethodFault, key, msg string) types.BaseMethodFault {
	mf := f.GetMethodFault()
	mf.FaultMessage = append(mf.FaultMessage, types.LocalizableMessage{Key: faultKeyPrefix + key, Message: msg})
	return f
}

// powerOnFault is how vSphere reports a VM that cannot start (the VMX's
// refusal): a GenericVmConfigFault whose reason is the message.
func powerOnFault(key, msg string) types.BaseMethodFault {
	return withMessage(&types.GenericVmConfigFault{Reason: msg}, key, msg)
}

// deviceSpecFault refuses device change number index of a config spec.
func deviceSpecFault(index int, property, key, msg string) types.BaseMethodFault {
	return withMessage(&types.InvalidDeviceSpec{
		InvalidVmConfig: types.InvalidVmConfig{Property: property},
		DeviceIndex:     int32(index),
	}, key, msg)
}

// hotPlugFault refuses adding, changing or removing a device that cannot
// be hot-plugged while the VM runs.
func hotPlugFault(index int, msg string) types.BaseMethodFault {
	return withMessage(&types.DeviceHotPlugNotSupported{InvalidDeviceSpec: types.InvalidDeviceSpec{
		InvalidVmConfig: types.InvalidVmConfig{Property: "virtualDeviceSpec.device"},
		DeviceIndex:     int32(index),
	}}, "hotPlug", msg)
}

// faultText is the human text of a fault, or "" when it has none.
func faultText(f types.BaseMethodFault) string {
	if f == nil {
		return ""
	}
	var parts []string
	for _, m := range f.GetMethodFault().FaultMessage {
		if m.Message != "" {
			parts = append(parts, m.Message)
		}
	}
	if len(parts) == 0 {
		if g, ok := f.(*types.GenericVmConfigFault); ok {
			return g.Reason
		}
	}
	return strings.Join(parts, " ")
}

// localized wraps a fault for task errors and ClusterNotAttemptedVmInfo.
func localized(f types.BaseMethodFault) types.LocalizedMethodFault {
	msg := faultText(f)
	if msg == "" {
		msg = strings.TrimPrefix(fmt.Sprintf("%T", f), "*types.")
	}
	return types.LocalizedMethodFault{Fault: f, LocalizedMessage: msg}
}

// setTaskFaultMessage gives a failed task's error the fault's own text.
func setTaskFaultMessage(ref types.ManagedObjectReference) {
	t, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok || t.Info.Error == nil {
		return
	}
	msg := faultText(t.Info.Error.Fault)
	if msg == "" || msg == t.Info.Error.LocalizedMessage {
		return
	}
	lf := *t.Info.Error
	lf.LocalizedMessage = msg
	simulator.Map.Update(t, []types.PropertyChange{{Name: "info.error", Val: lf}})
}
