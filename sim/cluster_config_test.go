package main

import (
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func (e *labEnv) clusterConfig(c *object.ClusterComputeResource) (*types.ClusterConfigInfoEx, []types.ManagedObjectReference) {
	var m mo.ClusterComputeResource
	if err := c.Properties(e.ctx, c.Reference(), []string{"configurationEx", "configuration", "datastore"}, &m); err != nil {
		e.t.Fatal(err)
	}
	cfg := m.ConfigurationEx.(*types.ClusterConfigInfoEx)
	if m.Configuration.DasConfig.HBDatastoreCandidatePolicy != cfg.DasConfig.HBDatastoreCandidatePolicy {
		e.t.Errorf("configuration does not mirror configurationEx: %+v", m.Configuration.DasConfig)
	}
	return cfg, m.Datastore
}

func (e *labEnv) reconfigureClusterModify(c *object.ClusterComputeResource, spec *types.ClusterConfigSpecEx, modify bool) {
	e.t.Helper()
	tk, err := c.Reconfigure(e.ctx, spec, modify)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := tk.Wait(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

// ReconfigureComputeResource_Task with modify true merges the HA settings
// field by field (vmComponentProtecting, hBDatastoreCandidatePolicy and
// heartbeatDatastore included); with modify false the HA, DRS, DPM and
// vSAN sections become the spec's, what it leaves out taking the defaults.
func TestClusterReconfigureModify(t *testing.T) {
	e := newLabEnv(t)
	c := e.cluster(HPCClusterName)
	orig, datastores := e.clusterConfig(c)
	if len(datastores) == 0 {
		t.Fatal("cluster without datastores")
	}
	defer e.reconfigureClusterModify(c, &types.ClusterConfigSpecEx{DasConfig: &orig.DasConfig, DrsConfig: &orig.DrsConfig,
		DpmConfig: orig.DpmConfigInfo, VsanConfig: orig.VsanConfigInfo}, false)

	e.reconfigureClusterModify(c, &types.ClusterConfigSpecEx{
		DasConfig: &types.ClusterDasConfigInfo{VmComponentProtecting: "enabled",
			HBDatastoreCandidatePolicy: "userSelectedDs", HeartbeatDatastore: datastores[:1]},
		DrsConfig: &types.ClusterDrsConfigInfo{VmotionRate: 2},
		DpmConfig: &types.ClusterDpmConfigInfo{HostPowerActionRate: 4},
	}, true)
	cfg, _ := e.clusterConfig(c)
	das := cfg.DasConfig
	if das.VmComponentProtecting != "enabled" || das.HBDatastoreCandidatePolicy != "userSelectedDs" ||
		len(das.HeartbeatDatastore) != 1 || das.HeartbeatDatastore[0] != datastores[0] {
		t.Errorf("merged HA settings: %+v", das)
	}
	if *das.Enabled != *orig.DasConfig.Enabled || das.HostMonitoring != orig.DasConfig.HostMonitoring ||
		cfg.DrsConfig.VmotionRate != 2 || cfg.DrsConfig.DefaultVmBehavior != orig.DrsConfig.DefaultVmBehavior ||
		cfg.DpmConfigInfo.HostPowerActionRate != 4 || cfg.DpmConfigInfo.DefaultDpmBehavior != orig.DpmConfigInfo.DefaultDpmBehavior {
		t.Errorf("modify true changed what the spec left unset: %+v %+v %+v", das, cfg.DrsConfig, cfg.DpmConfigInfo)
	}

	e.reconfigureClusterModify(c, &types.ClusterConfigSpecEx{
		DrsConfig: &types.ClusterDrsConfigInfo{DefaultVmBehavior: types.DrsBehaviorManual},
	}, false)
	cfg, _ = e.clusterConfig(c)
	das = cfg.DasConfig
	if das.VmComponentProtecting != "disabled" || das.HBDatastoreCandidatePolicy != "allFeasibleDsWithUserPreference" ||
		len(das.HeartbeatDatastore) != 0 || das.Enabled == nil || *das.Enabled || das.DefaultVmSettings == nil {
		t.Errorf("HA after modify false without dasConfig: %+v", das)
	}
	drs := cfg.DrsConfig
	if drs.DefaultVmBehavior != types.DrsBehaviorManual || drs.VmotionRate != 3 || drs.Enabled == nil || *drs.Enabled ||
		drs.EnableVmBehaviorOverrides == nil || !*drs.EnableVmBehaviorOverrides {
		t.Errorf("DRS after modify false: %+v", drs)
	}
	if cfg.DpmConfigInfo.HostPowerActionRate != 3 || cfg.VsanConfigInfo == nil || *cfg.VsanConfigInfo.Enabled {
		t.Errorf("DPM, vSAN after modify false: %+v %+v", cfg.DpmConfigInfo, cfg.VsanConfigInfo)
	}

	// The restore in the defer is modify false with the original sections.
	e.reconfigureClusterModify(c, &types.ClusterConfigSpecEx{DasConfig: &orig.DasConfig, DrsConfig: &orig.DrsConfig,
		DpmConfig: orig.DpmConfigInfo, VsanConfig: orig.VsanConfigInfo}, false)
	if cfg, _ = e.clusterConfig(c); cfg.DrsConfig.VmotionRate != orig.DrsConfig.VmotionRate ||
		cfg.DrsConfig.DefaultVmBehavior != orig.DrsConfig.DefaultVmBehavior || *cfg.DasConfig.Enabled != *orig.DasConfig.Enabled {
		t.Errorf("restored: %+v %+v", cfg.DrsConfig, cfg.DasConfig)
	}
}
