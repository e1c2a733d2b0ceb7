//! Per-process GPU memory and utilisation through NVML, loaded at run time
//! (`libnvidia-ml.so.1`, as the driver installs it): no NVIDIA library is
//! needed to build or to run aiposture, and without a driver the inventory
//! says so instead of showing empty GPU columns as if nothing ran there.

use std::ffi::OsStr;

use nvml_wrapper::Nvml;
use nvml_wrapper::enums::device::UsedGpuMemory;

use crate::model::gpu::{GpuDevice, GpuInventory, GpuProcess};

/// The library the driver installs; the unversioned `.so` exists only with
/// development packages.
const NVML: &str = "libnvidia-ml.so.1";

pub struct Gpu {
    nvml: Result<Nvml, String>,
    /// Per device: the newest utilisation sample already read.
    last_sample: std::collections::HashMap<u32, u64>,
}

impl Gpu {
    pub fn open() -> Gpu {
        let nvml = Nvml::builder()
            .lib_path(OsStr::new(NVML))
            .init()
            .map_err(|e| describe(&e));
        Gpu {
            nvml,
            last_sample: Default::default(),
        }
    }

    pub fn read(&mut self) -> GpuInventory {
        let nvml = match &self.nvml {
            Ok(n) => n,
            Err(why) => {
                return GpuInventory {
                    unavailable: Some(why.clone()),
                    ..Default::default()
                };
            }
        };
        let mut inv = GpuInventory {
            driver_version: nvml.sys_driver_version().ok(),
            ..Default::default()
        };
        let count = match nvml.device_count() {
            Ok(c) => c,
            Err(e) => {
                inv.unavailable = Some(format!("NVML device count: {e}"));
                return inv;
            }
        };
        for index in 0..count {
            let Ok(dev) = nvml.device_by_index(index) else {
                continue;
            };
            let mem = dev.memory_info().ok();
            inv.devices.push(GpuDevice {
                index,
                name: dev.name().unwrap_or_else(|_| "unknown".into()),
                memory_total_bytes: mem.as_ref().map(|m| m.total),
                memory_used_bytes: mem.as_ref().map(|m| m.used),
                utilization_percent: dev.utilization_rates().ok().map(|u| u.gpu),
            });
            let since = self.last_sample.get(&index).copied();
            let samples = dev.process_utilization_stats(since).unwrap_or_default();
            if let Some(newest) = samples.iter().map(|s| s.timestamp).max() {
                self.last_sample.insert(index, newest);
            }
            let procs = dev
                .running_compute_processes()
                .unwrap_or_default()
                .into_iter()
                .chain(dev.running_graphics_processes().unwrap_or_default());
            for p in procs {
                if inv
                    .processes
                    .iter()
                    .any(|q| q.pid == p.pid && q.device == index)
                {
                    continue;
                }
                inv.processes.push(GpuProcess {
                    pid: p.pid,
                    device: index,
                    used_memory_bytes: match p.used_gpu_memory {
                        UsedGpuMemory::Used(b) => Some(b),
                        UsedGpuMemory::Unavailable => None,
                    },
                    sm_utilization_percent: samples
                        .iter()
                        .filter(|s| s.pid == p.pid)
                        .map(|s| s.sm_util)
                        .max(),
                });
            }
        }
        inv
    }
}

fn describe(e: &nvml_wrapper::error::NvmlError) -> String {
    use nvml_wrapper::error::NvmlError;
    match e {
        NvmlError::LibloadingError(_) => {
            format!("no NVIDIA driver: {NVML} could not be loaded")
        }
        NvmlError::DriverNotLoaded => "no NVIDIA driver: the kernel module is not loaded".into(),
        NvmlError::NoPermission => "NVML refused access (no permission)".into(),
        other => format!("NVML: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_driver_the_reason_is_given() {
        // This machine has no NVIDIA driver; where one exists the inventory
        // lists devices instead, and either way it never panics.
        let mut g = Gpu::open();
        let inv = g.read();
        match &inv.unavailable {
            Some(why) => assert!(why.contains("NVIDIA") || why.contains("NVML"), "{why}"),
            None => assert!(!inv.devices.is_empty()),
        }
    }
}
