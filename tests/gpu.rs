//! GPU awareness: with no NVIDIA driver (this CI), the inventory says so and a
//! blind spot names it; where a driver is present, devices are listed and the
//! servers' GPU column is filled from NVML (checked on a GPU machine).

mod support;

use support::*;

#[test]
fn gpu_state_is_known_or_named_as_a_blind_spot() {
    let snap = snapshot(&["--passive", "--no-hash-wait"]);
    let gpu = &snap["inventory"]["gpu"];
    let driver = std::path::Path::new("/proc/driver/nvidia/version").exists();
    if driver {
        assert!(gpu["unavailable"].is_null(), "{gpu:#}");
        assert!(
            !gpu["devices"].as_array().expect("devices").is_empty(),
            "{gpu:#}"
        );
    } else {
        let why = gpu["unavailable"]
            .as_str()
            .expect("a reason without a driver");
        assert!(why.contains("no NVIDIA driver"), "{why}");
        let blind = snap["inventory"]["blind_spots"]
            .as_array()
            .expect("blind spots");
        assert!(
            blind.iter().any(
                |b| b["what"].as_str().is_some_and(|w| w.contains("GPU memory"))
                    && b["reason"] == *why
            ),
            "{blind:#?}"
        );
    }
}
