package main

// A deep copy of vim data objects. The stock CloneVM_Task hands the source's
// device objects themselves to the new VM (and edits them on the way: disk
// file names, keys, MAC addresses), so the lab clones from copies.

import (
	"reflect"

	"github.com/vmware/govmomi/vim25/types"
)

// copyDevices returns a deep copy of devs.
func copyDevices(devs []types.BaseVirtualDevice) []types.BaseVirtualDevice {
	if devs == nil {
		return nil
	}
	return deepCopy(reflect.ValueOf(devs)).Interface().([]types.BaseVirtualDevice)
}

func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Ptr:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Elem().Type())
		c.Elem().Set(deepCopy(v.Elem()))
		return c
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(deepCopy(v.Elem()))
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v) // unexported fields (e.g. time.Time's) as they are
		for i := 0; i < v.NumField(); i++ {
			if c.Field(i).CanSet() {
				c.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			c.SetMapIndex(k, deepCopy(v.MapIndex(k)))
		}
		return c
	}
	return v
}
