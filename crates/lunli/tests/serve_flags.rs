//! `lunli serve`'s proxy flags are checked before anything starts: a network that is not one is
//! refused with the value and what was expected.

mod common;

use common::Data;

#[test]
fn a_trusted_proxy_that_is_not_a_network_is_refused_by_name() {
    let data = Data::new();
    for bad in ["10.0.0.0/99", "proxy.internal"] {
        let output = data
            .lunli("admin")
            .env_remove("LUNLI_TRUSTED_PROXIES")
            .args(["serve", "--listen", "127.0.0.1:0", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", bad])
            .output()
            .expect("runs");
        assert!(!output.status.success(), "{bad} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--trusted-proxy") && stderr.contains(&format!("`{bad}`")), "{stderr}");
        assert!(stderr.contains("CIDR"), "{stderr}");
    }
}
