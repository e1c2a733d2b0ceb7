//! GPUs and the inference processes on them, from NVML when an NVIDIA driver
//! is present; otherwise why not.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct GpuInventory {
    /// `None` when NVML answered; otherwise why GPU use is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_version: Option<String>,
    pub devices: Vec<GpuDevice>,
    /// Processes holding GPU memory or running work, by host pid.
    pub processes: Vec<GpuProcess>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct GpuDevice {
    pub index: u32,
    pub name: String,
    pub memory_total_bytes: Option<u64>,
    pub memory_used_bytes: Option<u64>,
    /// Percent of the last sample period a kernel was running.
    pub utilization_percent: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct GpuProcess {
    pub pid: u32,
    pub device: u32,
    /// `None` where the driver does not say (e.g. a MIG instance seen from outside).
    pub used_memory_bytes: Option<u64>,
    /// SM utilisation of this process over the driver's last sample, percent.
    pub sm_utilization_percent: Option<u32>,
}

impl GpuInventory {
    /// GPU memory held by these pids (a server and its workers), and the
    /// highest SM utilisation among them.
    pub fn usage_of(&self, pids: &[u32]) -> Option<(Option<u64>, Option<u32>)> {
        let mine: Vec<&GpuProcess> = self
            .processes
            .iter()
            .filter(|p| pids.contains(&p.pid))
            .collect();
        if mine.is_empty() {
            return None;
        }
        let mem = mine
            .iter()
            .map(|p| p.used_memory_bytes)
            .try_fold(0u64, |acc, m| m.map(|m| acc + m));
        let util = mine.iter().filter_map(|p| p.sm_utilization_percent).max();
        Some((mem, util))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: u32, mem: Option<u64>, util: Option<u32>) -> GpuProcess {
        GpuProcess {
            pid,
            device: 0,
            used_memory_bytes: mem,
            sm_utilization_percent: util,
        }
    }

    #[test]
    fn a_server_and_its_workers_add_up() {
        let g = GpuInventory {
            processes: vec![
                p(10, Some(100), Some(5)),
                p(11, Some(50), Some(70)),
                p(99, Some(7), None),
            ],
            ..Default::default()
        };
        assert_eq!(g.usage_of(&[10, 11]), Some((Some(150), Some(70))));
        assert_eq!(g.usage_of(&[12]), None);
        // One unknown amount makes the sum unknown, never a smaller number.
        let g = GpuInventory {
            processes: vec![p(10, Some(100), None), p(11, None, None)],
            ..Default::default()
        };
        assert_eq!(g.usage_of(&[10, 11]), Some((None, None)));
    }
}
