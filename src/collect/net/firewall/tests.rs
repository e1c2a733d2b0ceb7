use super::common::*;
use super::iptables::*;
use super::nft::*;
use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/firewall")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn chains(name: &str) -> (Vec<InputChain>, Vec<String>) {
    match from_nft_json(&fixture(name)) {
        FirewallView::Rules {
            input_chains,
            unmodelled,
            source,
            ..
        } => {
            assert!(
                source.to_string().starts_with("nft -j list ruleset"),
                "{source}"
            );
            (input_chains, unmodelled)
        }
        other => panic!("{name}: {other:?}"),
    }
}

fn shown(c: &InputChain) -> Vec<String> {
    c.rules.iter().map(|r| r.to_string()).collect()
}

#[test]
fn host_ruleset_with_docker_has_no_input_chain() {
    // Docker's iptables-nft tables: nat and forward chains only. The nat
    // PREROUTING chain is address translation, not filtering.
    let (chains, unmodelled) = chains("host.json");
    assert!(chains.is_empty(), "{chains:#?}");
    assert!(unmodelled.is_empty(), "{unmodelled:?}");
    // Its FORWARD chain is on the forward path.
    let FirewallView::Rules { forward_chains, .. } = from_nft_json(&fixture("host.json")) else {
        panic!("readable");
    };
    assert_eq!(forward_chains.len(), 1);
    assert_eq!(forward_chains[0].label(), "ip filter FORWARD");
    assert_eq!(forward_chains[0].hook, ChainHook::Forward);
    assert_eq!(forward_chains[0].policy, ChainPolicy::Drop);
}

fn forward_of(view: &FirewallView) -> &[InputChain] {
    match view {
        FirewallView::Rules { forward_chains, .. } => forward_chains,
        other => panic!("{other:?}"),
    }
}

/// Captured on a host running a Docker container published on 0.0.0.0
/// (172.17.0.2:8080 on docker0) and a Podman (CNI) one (10.88.0.11:8080 on
/// cni-podman0): `nft -j list ruleset`, `iptables-nft-save`,
/// `iptables-legacy-save`.
#[test]
fn docker_and_podman_forward_chains() {
    let view = with_saves("forward-docker-podman");
    let (source, input) = rules_of(&view);
    assert!(
        source.contains("ip filter read with iptables-nft-save"),
        "{source}"
    );
    // The nat chains are not filters; no inbound chain filters.
    assert!(input.is_empty(), "{input:#?}");
    let fwd = forward_of(&view);
    assert_eq!(fwd.len(), 1, "{fwd:#?}");
    let f = &fwd[0];
    assert_eq!(f.label(), "ip filter FORWARD");
    assert_eq!(f.policy, ChainPolicy::Drop);
    assert_eq!(
        shown(f),
        [
            "jump CNI-FORWARD",
            "jump DOCKER-USER",
            "jump DOCKER-ISOLATION-STAGE-1",
            "oifname \"docker0\" ct state related,established accept",
            "oifname \"docker0\" jump DOCKER",
            "iifname \"docker0\" oifname != \"docker0\" accept",
            "iifname \"docker0\" oifname \"docker0\" accept",
        ]
    );
    assert_eq!(
        sub(f, "DOCKER"),
        ["ip daddr 172.17.0.2 iifname != \"docker0\" oifname \"docker0\" tcp dport 8080 accept"]
    );
    assert_eq!(
        sub(f, "CNI-FORWARD"),
        [
            "jump CNI-ADMIN",
            "ip daddr 10.88.0.11 ct state related,established accept",
            "ip saddr 10.88.0.11 accept",
        ]
    );
    assert!(f.subchains["CNI-ADMIN"].is_empty());
    // nft's handles.
    assert!(f.rules.iter().all(|r| r.handle.is_some()));
    // nft alone: the same chain, its iptables matches opaque.
    let plain = from_nft_json(&fixture("forward-docker-podman.json"));
    let pf = &forward_of(&plain)[0];
    assert_eq!(pf.label(), "ip filter FORWARD");
    assert!(
        shown(pf)
            .iter()
            .any(|r| r.contains("<iptables match -m conntrack>")),
        "{:#?}",
        shown(pf)
    );
    // The same host's legacy tables: empty, policy accept.
    let legacy = String::from_utf8_lossy(&fixture("forward-docker-podman.legacy")).into_owned();
    let lf = legacy_forward_chains(&legacy, ChainFamily::Ip);
    let labels: Vec<String> = lf.iter().map(|c| c.label()).collect();
    assert_eq!(
        labels,
        [
            "iptables-legacy mangle FORWARD",
            "iptables-legacy filter FORWARD"
        ]
    );
    assert!(
        lf.iter()
            .all(|c| c.rules.is_empty() && c.policy == ChainPolicy::Accept)
    );
    assert_eq!(lf[0].priority, -150);
    assert!(
        legacy_chains(&legacy, ChainFamily::Ip)
            .iter()
            .all(|c| c.hook != ChainHook::Forward)
    );
}

#[test]
fn nft_forward_chains_and_oifname() {
    let json = br#"{"nftables":[
        {"chain":{"family":"inet","table":"t","name":"fwd","handle":1,"type":"filter","hook":"forward","prio":0,"policy":"drop"}},
        {"chain":{"family":"inet","table":"t","name":"nat","handle":2,"type":"nat","hook":"forward","prio":0,"policy":"accept"}},
        {"chain":{"family":"inet","table":"t","name":"in","handle":3,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
        {"chain":{"family":"inet","table":"t","name":"c","handle":4}},
        {"rule":{"family":"inet","table":"t","chain":"fwd","handle":5,"expr":[{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"br-*"}},{"jump":{"target":"c"}}]}},
        {"rule":{"family":"inet","table":"t","chain":"fwd","handle":6,"expr":[{"match":{"op":"!=","left":{"meta":{"key":"oif"}},"right":"eth0"}},{"accept":null}]}},
        {"rule":{"family":"inet","table":"t","chain":"c","handle":7,"expr":[{"accept":null}]}},
        {"chain":{"family":"inet","table":"t","name":"bad","handle":8,"type":"filter","hook":"forward","prio":"x","policy":"drop"}}
    ]}"#;
    let view = from_nft_json(json);
    let (_, input) = rules_of(&view);
    assert_eq!(input.len(), 1);
    assert_eq!(input[0].label(), "inet t in");
    let fwd = forward_of(&view);
    let f = find(fwd, "inet t fwd");
    assert_eq!(f.hook, ChainHook::Forward);
    assert_eq!(
        shown(f),
        ["oifname \"br-*\" jump c", "oifname != \"eth0\" accept"]
    );
    assert_eq!(sub(f, "c"), ["accept"]);
    // Not a filter: left out. Not readable: a chain of unknown effect.
    assert!(fwd.iter().all(|c| c.name != "nat"));
    let bad = find(fwd, "inet t bad");
    assert!(
        matches!(bad.rules[0].verdict, Verdict::Other { .. }),
        "{bad:?}"
    );
}

#[test]
fn policy_drop_with_ssh() {
    let (chains, _) = chains("drop-ssh.json");
    assert_eq!(chains.len(), 1);
    let c = &chains[0];
    assert_eq!(c.label(), "inet filter input");
    assert_eq!(c.policy, ChainPolicy::Drop);
    assert_eq!(c.hook, ChainHook::Input);
    assert_eq!(shown(c), ["tcp dport 22 accept"]);
}

#[test]
fn policy_accept_with_drop_8080() {
    let (chains, _) = chains("accept-drop-8080.json");
    let c = &chains[0];
    assert_eq!(c.policy, ChainPolicy::Accept);
    assert_eq!(
        c.rules[0].matches,
        [Match::DstPort {
            protocol: Some("tcp".into()),
            negated: false,
            ports: vec![PortRange {
                first: 8080,
                last: 8080
            }],
        }]
    );
    assert_eq!(c.rules[0].verdict, Verdict::Drop);
}

#[test]
fn loopback_and_established() {
    let (chains, _) = chains("lo-established.json");
    assert_eq!(
        shown(&chains[0]),
        [
            "iifname \"lo\" accept",
            "ct state established accept",
            "ct state established,related accept",
            "ct state invalid drop",
        ]
    );
}

#[test]
fn unmodelled_rule_is_kept_as_unknown() {
    let (chains, _) = chains("unmodelled.json");
    let c = &chains[0];
    assert!(
        c.rules.iter().any(|r| r
            .matches
            .iter()
            .any(|m| matches!(m, Match::Unknown { what } if what.contains("numgen")))),
        "{:?}",
        shown(c)
    );
}

#[test]
fn rich_ruleset_is_simplified() {
    let (chains, _) = chains("rich.json");
    let c = &chains[0];
    let s = shown(c);
    for want in [
        "tcp dport { 22, 80-90 } accept",
        "tcp dport { 443, 8443 } accept",
        "ip saddr { 10.0.0.0/8, 192.168.1.5 } drop",
        "ip6 saddr fe80::/10 udp dport 546 accept",
        "meta l4proto { tcp, udp } th dport 53 accept",
        "tcp dport 0-1023 continue",
        "meta l4proto icmp <icmp type> <limit rate> accept",
        "tcp dport 7000 accept",
        "tcp dport 7001 drop",
        "ip daddr 10.1.2.3 tcp dport != 22 reject",
        "meta nfproto ipv4 jump sub",
        "meta nfproto ipv4 meta l4proto tcp goto sub",
        "iifname \"eth*\" tcp dport 9000 drop",
    ] {
        assert!(s.iter().any(|r| r == want), "missing {want:?} in {s:#?}");
    }
    assert_eq!(
        c.subchains.get("sub").map(|r| r.len()),
        Some(2),
        "{:?}",
        c.subchains
    );
}

#[test]
fn vmaps_fib_and_pkttype() {
    let (chains, _) = chains("vmap-fib.json");
    assert_eq!(chains.len(), 2);
    let (pre, input) = (&chains[0], &chains[1]);
    assert_eq!(pre.hook, ChainHook::Prerouting);
    assert_eq!(pre.priority, -290);
    assert_eq!(input.priority, 10);
    assert_eq!(
        shown(pre),
        [
            "fib saddr . iif oif missing drop",
            "meta nfproto ipv6 fib saddr . iif oif missing drop"
        ]
    );
    let s = shown(input);
    for want in [
        "ct state invalid drop",
        "ct state established accept",
        "iifname \"lo\" accept",
        "iifname \"eth0\" jump inbound",
        "tcp dport 22 accept",
        "<match on a computed value> tcp dport 443 accept",
        "meta l4proto { icmp, ipv6-icmp } accept",
        "meta pkttype host <limit rate> reject",
        "reject",
    ] {
        assert!(s.iter().any(|r| r == want), "missing {want:?} in {s:#?}");
    }
    assert!(input.subchains.contains_key("inbound"));
}

#[test]
fn iptables_nft_rules() {
    let (chains, _) = chains("iptables-nft.json");
    let input = chains
        .iter()
        .find(|c| c.family == ChainFamily::Ip)
        .expect("ip filter INPUT");
    let s = shown(input);
    assert!(
        s.contains(&"<iptables match -m conntrack> accept".to_string()),
        "{s:#?}"
    );
    assert!(s.contains(&"tcp dport 8080 reject".to_string()), "{s:#?}");
    // -j LOG does not end the rule's evaluation.
    assert!(
        s.contains(&"<iptables match -m addrtype> continue".to_string()),
        "{s:#?}"
    );
    assert!(input.subchains.contains_key("MYCHAIN"));
}

#[test]
fn garbage_is_unreadable_not_a_guess() {
    for bad in [&b"not json"[..], b"{}", b"[1,2]", b"{\"nftables\": 3}"] {
        assert!(matches!(
            from_nft_json(bad),
            FirewallView::Unreadable { .. }
        ));
    }
    // Unknown objects and statements survive as Unknown entries.
    let odd = br#"{"nftables":[
        {"chain":{"family":"inet","table":"t","name":"in","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
        {"rule":{"family":"inet","table":"t","chain":"in","handle":2,"expr":[{"frobnicate":{"x":1}},{"accept":null}]}},
        {"rule":{"family":"inet","table":"t","chain":"in","handle":3,"expr":[{"frobnicate":{"x":1}}]}},
        {"wibble":{}}
    ]}"#;
    let FirewallView::Rules { input_chains, .. } = from_nft_json(odd) else {
        panic!("should read");
    };
    let s = shown(&input_chains[0]);
    assert_eq!(
        s,
        [
            "<statement `frobnicate` not understood> accept",
            "<statement `frobnicate` not understood> <a statement that was not understood>"
        ]
    );
}

#[test]
fn legacy_save_output() {
    let text = String::from_utf8_lossy(&fixture("legacy-save.txt")).into_owned();
    let chains = legacy_chains(&text, ChainFamily::Ip);
    let filter = chains
        .iter()
        .find(|c| c.table == "filter" && c.name == "INPUT")
        .expect("filter INPUT");
    assert_eq!(filter.label(), "iptables-legacy filter INPUT");
    assert_eq!(shown(filter), ["tcp dport 8080 drop"]);
    assert_eq!(filter.rules[0].handle, Some(1));
    assert!(chains.iter().all(|c| c.table != "nat"));
    assert!(
        chains
            .iter()
            .any(|c| c.table == "raw" && c.hook == ChainHook::Prerouting)
    );
}

/// `<case>.json` with `<case>.save` / `<case>.save6` as the output of
/// iptables-nft-save / ip6tables-nft-save (missing file: the tool failed).
fn with_saves(case: &str) -> FirewallView {
    from_nft_json_with_save(&fixture(&format!("{case}.json")), |family| {
        let ext = if family == ChainFamily::Ip6 {
            "save6"
        } else {
            "save"
        };
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/firewall")
            .join(format!("{case}.{ext}"));
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    })
}

fn rules_of(view: &FirewallView) -> (String, &[InputChain]) {
    match view {
        FirewallView::Rules {
            source,
            input_chains,
            ..
        } => (source.to_string(), input_chains),
        other => panic!("{other:?}"),
    }
}

fn sub(c: &InputChain, name: &str) -> Vec<String> {
    c.subchains
        .get(name)
        .unwrap_or_else(|| panic!("no subchain {name}: {:?}", c.subchains.keys()))
        .iter()
        .map(|r| r.to_string())
        .collect()
}

fn find<'a>(chains: &'a [InputChain], label: &str) -> &'a InputChain {
    chains
        .iter()
        .find(|c| c.label() == label)
        .unwrap_or_else(|| panic!("no {label}: {chains:#?}"))
}

#[test]
fn ufw_tables_are_read_in_iptables_syntax() {
    let view = with_saves("ufw");
    let (source, chains) = rules_of(&view);
    assert_eq!(
        source,
        "nft -j list ruleset (nftables v1.0.6); ip filter read with iptables-nft-save; \
         ip6 filter read with ip6tables-nft-save"
    );
    let input = find(chains, "ip filter INPUT");
    assert_eq!(input.policy, ChainPolicy::Drop);
    assert!(!input.legacy);
    assert_eq!(
        shown(input),
        [
            "jump ufw-before-logging-input",
            "jump ufw-before-input",
            "jump ufw-after-input",
            "jump ufw-after-logging-input",
            "jump ufw-reject-input",
            "jump ufw-track-input",
        ]
    );
    let before = sub(input, "ufw-before-input");
    for want in [
        "iifname \"lo\" accept",
        "ct state related,established accept",
        "ct state invalid jump ufw-logging-deny",
        "ct state invalid drop",
        "meta l4proto icmp <iptables -m icmp --icmp-type 8> accept",
        "udp sport 67 udp dport 68 accept",
        "ip daddr 224.0.0.251 udp dport 5353 accept",
        "jump ufw-not-local",
        "jump ufw-user-input",
    ] {
        assert!(
            before.iter().any(|r| r == want),
            "missing {want:?} in {before:#?}"
        );
    }
    assert_eq!(
        sub(input, "ufw-user-input"),
        [
            "tcp dport 22 accept",
            "tcp dport { 80, 443 } accept",
            "tcp dport 8022 accept",
            "ip saddr 10.0.0.0/8 tcp dport 9000 accept",
            // `-m comment` is left out; `eth+` is `eth*`.
            "iifname \"eth*\" tcp dport 11434 accept",
        ]
    );
    assert_eq!(
        sub(input, "ufw-not-local"),
        [
            "fib daddr type local return",
            "fib daddr type multicast return",
            "fib daddr type broadcast return",
            "<iptables -m limit --limit 3/min --limit-burst 10> jump ufw-logging-deny",
            "drop",
        ]
    );
    // LOG does not end evaluation.
    assert_eq!(
        sub(input, "ufw-after-logging-input"),
        ["<iptables -m limit --limit 3/min --limit-burst 10> continue"]
    );
    // Only what INPUT reaches: no FORWARD or OUTPUT chains.
    assert!(!input.subchains.contains_key("ufw-before-forward"));
    assert!(input.subchains["ufw-track-input"].is_empty());
    // Rules keep nft's handles.
    let nft = chains_of_json("ufw.json", "ip filter INPUT");
    let handles = |c: &InputChain| c.rules.iter().map(|r| r.handle).collect::<Vec<_>>();
    assert_eq!(handles(input), handles(&nft));
    assert!(handles(input).iter().all(|h| h.is_some_and(|h| h > 6)));

    let input6 = find(chains, "ip6 filter INPUT");
    assert_eq!(input6.policy, ChainPolicy::Drop);
    let before6 = sub(input6, "ufw6-before-input");
    for want in [
        "<iptables -m rt --rt-type 0> drop",
        "meta l4proto ipv6-icmp <iptables -m icmp6 --icmpv6-type 135> \
         <iptables -m hl --hl-eq 255> accept",
        "ip6 daddr fe80::/10 udp sport 547 udp dport 546 accept",
        "ip6 daddr ff02::fb udp dport 5353 accept",
    ] {
        assert!(
            before6.iter().any(|r| r == want),
            "missing {want:?} in {before6:#?}"
        );
    }
}

fn chains_of_json(name: &str, label: &str) -> InputChain {
    let (chains, _) = chains(name);
    find(&chains, label).clone()
}

#[test]
fn recent_hashlimit_and_string_stay_unknown() {
    let view = with_saves("recent");
    let (_, chains) = rules_of(&view);
    let input = find(chains, "ip filter INPUT");
    assert_eq!(
        sub(input, "ufw-user-input"),
        [
            "tcp dport 22 ct state new <iptables -m recent --set --name DEFAULT --mask \
             255.255.255.255 --rsource> continue",
            "tcp dport 22 ct state new <iptables -m recent --update --seconds 30 --hitcount 6 \
             --name DEFAULT --mask 255.255.255.255 --rsource> jump ufw-user-limit",
            "tcp dport 22 jump ufw-user-limit-accept",
            "tcp dport 8000-8100 <iptables -m hashlimit --hashlimit-upto 10/sec \
             --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name api> accept",
            "tcp dport 9000 <iptables -m string --string \"GET /admin\" --algo bm> drop",
            "tcp dport 9000 accept",
        ]
    );
    assert_eq!(
        sub(input, "ufw-user-limit"),
        ["<iptables -m limit --limit 3/min> continue", "reject"]
    );
}

#[test]
fn iptables_nft_fixture_with_its_save() {
    let view = with_saves("iptables-nft");
    let (source, chains) = rules_of(&view);
    assert!(
        source.contains("ip filter read with iptables-nft-save"),
        "{source}"
    );
    let input = find(chains, "ip filter INPUT");
    assert_eq!(
        shown(input),
        [
            "iifname \"lo\" accept",
            "ct state related,established accept",
            "ct state new tcp dport 22 accept",
            "tcp dport { 80, 443, 1000-2000 } accept",
            "ip saddr 10.0.0.0/8 udp dport 53 accept",
            "tcp dport 8080 reject",
            "fib daddr type local continue",
            "tcp dport 9090 drop",
            "jump MYCHAIN",
        ]
    );
    assert_eq!(sub(input, "MYCHAIN"), ["tcp dport != 5000 return"]);
    assert_eq!(
        input.rules.iter().map(|r| r.handle).collect::<Vec<_>>(),
        (2..=9).chain([11]).map(Some).collect::<Vec<_>>()
    );
    let input6 = find(chains, "ip6 filter INPUT");
    assert_eq!(shown(input6), ["meta l4proto ipv6-icmp accept"]);
}

#[test]
fn without_iptables_nft_save_the_nft_view_stays() {
    let json = fixture("iptables-nft.json");
    let plain = from_nft_json(&json);
    let (_, plain_chains) = rules_of(&plain);
    // The tool failed.
    let view = from_nft_json_with_save(&json, |_| Err("not found".into()));
    let (source, chains) = rules_of(&view);
    assert_eq!(chains, plain_chains);
    assert!(
        source.contains(
            "; iptables-nft-save not read (not found): ip filter as nft shows them, \
             iptables matches opaque"
        ),
        "{source}"
    );
    // Its ip6 table is native nft (no `xt`): ip6tables-nft-save is not needed.
    assert!(!source.contains("ip6tables"), "{source}");
    // The tool ran but did not list the table (`# Table `filter' is
    // incompatible, use 'nft' tool.`).
    let view = from_nft_json_with_save(&json, |_| {
        Ok("# Table `filter' is incompatible, use 'nft' tool.\n".into())
    });
    let (source, chains) = rules_of(&view);
    assert_eq!(chains, plain_chains);
    assert!(
        source.contains("ip filter not listed by iptables-nft-save"),
        "{source}"
    );
    // The ruleset changed between the two reads: a rule more.
    let save = String::from_utf8_lossy(&fixture("iptables-nft.save"))
        .replace("COMMIT", "-A MYCHAIN -j DROP\nCOMMIT");
    let view = from_nft_json_with_save(&json, |f| {
        if f == ChainFamily::Ip {
            Ok(save.clone())
        } else {
            Err("skipped".into())
        }
    });
    let (source, chains) = rules_of(&view);
    assert_eq!(chains, plain_chains);
    assert!(
        source.contains(
            "ip filter changed between reads (chain MYCHAIN: 1 rules in nft, 2 in \
             iptables-nft-save)"
        ),
        "{source}"
    );
}

#[test]
fn pure_nft_rulesets_do_not_run_iptables_nft_save() {
    // (host.json is not one: Docker's FORWARD chain is iptables-nft's.)
    for name in ["drop-ssh.json", "rich.json", "vmap-fib.json"] {
        let view = from_nft_json_with_save(&fixture(name), |f| {
            panic!("{name}: iptables-nft-save should not run for {f:?}")
        });
        assert_eq!(view, from_nft_json(&fixture(name)));
    }
}

/// The rules of chain `c` of an inline ruleset, shown.
fn saved(text: &str, family: ChainFamily, c: &str) -> Vec<String> {
    let tables = parse_save(text, family);
    let t = tables.first().expect("a table");
    t.rules
        .get(c)
        .map(|r| r.iter().map(|r| r.to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn iptables_save_syntax() {
    let text = r#"# Generated by iptables-save
*filter
:INPUT DROP [0:0]
:OUT - [0:0]
[5:300] -A INPUT ! -s 10.0.0.0/8 ! -i lo -p tcp -m tcp --dport 1024: -j ACCEPT
-A INPUT -s 192.168.0.0/255.255.0.0 -p udp -m udp --sport :1023 -j DROP
-A INPUT -s 10.0.0.0/255.0.255.0 -j DROP
-A INPUT -i + -m conntrack ! --ctstate NEW -j ACCEPT
-A INPUT -p 6 -m multiport ! --dports 1,2:3 -j OUT
-A INPUT -p tcp -m multiport --ports 80 -j ACCEPT
-A INPUT -g OUT
-A INPUT -m comment --comment "-j ACCEPT \"quoted\" \\ -m x" -j DROP
-A INPUT -o eth0 -j ACCEPT
-A INPUT -f -j DROP
-A INPUT -p tcp -m tcp --syn -j DROP
-A INPUT -p tcp -m tcp --tcp-flags SYN,RST SYN --dport 22 -j ACCEPT
-A INPUT -m conntrack --ctstate DNAT -j ACCEPT
-A INPUT -m addrtype --src-type LOCAL -j ACCEPT
-A INPUT -m pkttype --pkt-type unicast -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT
-A INPUT ! -p all -j DROP
-A INPUT -p udp -j NFQUEUE --queue-num 1
-A INPUT -j CT --notrack
-A INPUT -j NOWHERE
-A INPUT -g NOWHERE
-A INPUT -m comment --comment "unterminated
-A INPUT -s fd00::1/64 -j DROP
-A INPUT -j TRACE
-A INPUT ! -p tc/p -j ACCEPT
-A OUT -j RETURN
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -j DROP
"#;
    assert_eq!(
        saved(text, ChainFamily::Ip, "INPUT"),
        [
            "ip saddr != 10.0.0.0/8 iifname != \"lo\" tcp dport 1024-65535 accept",
            "ip saddr 192.168.0.0/16 udp sport 0-1023 drop",
            "<iptables -s 10.0.0.0/255.0.255.0> drop",
            "iifname \"*\" ct state != new accept",
            "tcp dport != { 1, 2-3 } jump OUT",
            "meta l4proto tcp <iptables -m multiport --ports 80> accept",
            "goto OUT",
            "drop",
            "oifname \"eth0\" accept",
            "<iptables -f> drop",
            "meta l4proto tcp <iptables -m tcp --syn> drop",
            "meta l4proto tcp <iptables -m tcp --tcp-flags SYN,RST SYN --dport 22> accept",
            "<iptables -m conntrack --ctstate DNAT> accept",
            "<iptables -m addrtype --src-type LOCAL> accept",
            "meta pkttype host ip saddr 10.0.0.1-10.0.0.9 accept",
            "meta l4proto {  } drop",
            "meta l4proto udp <iptables target NFQUEUE --queue-num 1>",
            "<iptables target CT --notrack>",
            "<iptables target NOWHERE>",
            "<iptables goto NOWHERE>",
            "<iptables rule not understood: -A INPUT -m comment --comment \"unterminated> \
             <an iptables rule that was not understood>",
            "<iptables -s fd00::1/64> drop",
            "continue",
            "<iptables ! -p tc/p> accept",
        ]
    );
    assert_eq!(saved(text, ChainFamily::Ip, "OUT"), ["return"]);
    let fwd = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -o br+ ! -i eth0 -j ACCEPT\n\
               -A FORWARD ! --out-interface docker0 -j DROP\nCOMMIT\n";
    assert_eq!(
        saved(fwd, ChainFamily::Ip, "FORWARD"),
        [
            "oifname \"br*\" iifname != \"eth0\" accept",
            "oifname != \"docker0\" drop"
        ]
    );
    // ip6tables: its addresses, not IPv4 ones.
    let six = "*filter\n:INPUT DROP [0:0]\n-A INPUT -s fd00::/8 -d ::1/128 -j ACCEPT\n\
               -A INPUT -s 10.0.0.1/32 -j ACCEPT\n\
               -A INPUT -p icmpv6 -j ACCEPT\nCOMMIT\n";
    assert_eq!(
        saved(six, ChainFamily::Ip6, "INPUT"),
        [
            "ip6 saddr fd00::/8 ip6 daddr ::1 accept",
            "<iptables -s 10.0.0.1/32> accept",
            "meta l4proto ipv6-icmp accept",
        ]
    );
    // The mangle table above has no COMMIT: an incomplete dump, left out.
    assert_eq!(parse_save(text, ChainFamily::Ip).len(), 1);
}

#[test]
fn rpfilter_in_raw_prerouting() {
    let text = "*raw\n:PREROUTING ACCEPT [0:0]\n\
                -A PREROUTING -m rpfilter --invert -j DROP\n\
                -A PREROUTING -m rpfilter --loose --validmark -j ACCEPT\n\
                -A PREROUTING -m rpfilter --bogus -j DROP\nCOMMIT\n";
    assert_eq!(
        saved(text, ChainFamily::Ip, "PREROUTING"),
        [
            "fib saddr . iif oif missing drop",
            "fib saddr . iif oif exists accept",
            "<iptables -m rpfilter --bogus> drop",
        ]
    );
    let chains = legacy_chains(text, ChainFamily::Ip);
    assert_eq!(chains[0].label(), "iptables-legacy raw PREROUTING");
    assert_eq!(chains[0].hook, ChainHook::Prerouting);
    assert_eq!(chains[0].priority, -300);
}

#[test]
fn clean_strips_control_and_bounds() {
    assert_eq!(clean("a\x1b[2Jb"), "a [2Jb");
    assert!(clean(&"x".repeat(1000)).chars().count() <= MAX_STR + 1);
}
