//! TLS for `https` endpoints: lunli-tls's client config (the system's roots through the platform
//! verifier, plus CA certificates given with `--ca-cert`), and what a failed certificate means
//! for a probe, worded with the probe's flags.

pub use lunli_tls::{CaCerts, certificate_problem, client_config, plain_config, provider};

/// What a certificate that failed verification means to the person running the probe.
pub(crate) fn describe(problem: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match problem {
        E::UnknownIssuer => "the server's TLS certificate is not trusted: no system root and no --ca-cert \
            certificate signed it (UnknownIssuer); give the CA that signed it with --ca-cert FILE"
            .into(),
        E::NotValidForName | E::NotValidForNameContext { .. } => format!(
            "the server's TLS certificate is not valid for this host name ({problem:?}); use the name the \
             certificate was issued for in --endpoint"
        ),
        E::Expired | E::ExpiredContext { .. } => format!("the server's TLS certificate has expired ({problem:?})"),
        other => format!("the server's TLS certificate is not trusted ({other:?})"),
    }
}
