//! Firewall rulesets: `nft -j list ruleset` JSON and `iptables-save` text, and
//! the NAT rules that publish ports.
#![no_main]

use aiposture::collect::net::firewall::{from_nft_json, legacy_chains};
use aiposture::model::firewall::ChainFamily;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = from_nft_json(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = legacy_chains(text, ChainFamily::Ip);
        let _ = aiposture::collect::net::nat::from_iptables_save(text, false, "iptables-save -t nat");
    }
});
