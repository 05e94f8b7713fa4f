//! TLS for every connection lunli opens to someone else's server — a model endpoint it probes
//! (lunli-probe), a warehouse it audits in place (lunli-audit's push-down): rustls with the ring
//! provider, the system's trusted roots through the platform verifier (on Linux, the CA bundle the
//! system ships), plus CA certificates the user names for a private server ([`CaCerts::read`]).
//!
//! The crypto provider is passed to every config explicitly, never installed process-wide, so
//! nothing else in the process depends on which provider lunli chose. ring rather than aws-lc-rs,
//! which needs cmake and builds far slower; rustls 0.23.48 deprecates ring for lacking
//! post-quantum key exchange, and classical TLS 1.2/1.3 key exchange is what the servers lunli
//! talks to (llama.cpp, vLLM behind uvicorn, PostgreSQL) offer anyway.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem;

pub use rustls::CertificateError;

/// TLS could not be set up; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A CA certificate file that cannot be read or used.
    #[error("CA certificate file {}: {reason}", file.display())]
    CaCert { file: PathBuf, reason: String },
    /// The trusted roots or the protocol versions could not be set up.
    #[error("TLS setup failed: {0}")]
    Setup(String),
}

/// CA certificates to trust besides the system's, read from PEM files.
#[derive(Debug, Clone, Default)]
pub struct CaCerts {
    certs: Vec<CertificateDer<'static>>,
    files: Vec<PathBuf>,
}

impl CaCerts {
    /// No extra CA: the system's roots only.
    pub fn none() -> CaCerts {
        CaCerts::default()
    }

    /// Reads every `CERTIFICATE` block of the PEM file at `path` (other blocks, such as keys,
    /// are not certificates and are refused). Each must be a well-formed X.509 certificate.
    pub fn read(path: &Path) -> Result<CaCerts, TlsError> {
        let bad = |reason: String| TlsError::CaCert { file: path.to_path_buf(), reason };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let mut certs = Vec::new();
        let mut reader = bytes.as_slice();
        for n in 1.. {
            match pem::from_buf(&mut reader) {
                Ok(None) => break,
                Ok(Some((pem::SectionKind::Certificate, der))) => {
                    let cert = CertificateDer::from(der);
                    // The same parse the verifier makes, so a damaged certificate is named here.
                    rustls::RootCertStore::empty()
                        .add(cert.clone())
                        .map_err(|e| bad(format!("PEM block {n} is not a usable X.509 CA certificate ({e})")))?;
                    certs.push(cert);
                }
                Ok(Some((kind, _))) => {
                    return Err(bad(format!(
                        "PEM block {n} is a {kind:?}, not a CERTIFICATE; give the CA's certificate \
                         (-----BEGIN CERTIFICATE-----), never a private key"
                    )));
                }
                Err(e) => return Err(bad(format!("PEM block {n}: {}", pem_error(&e)))),
            }
        }
        if certs.is_empty() {
            return Err(bad(
                "holds no PEM certificate; expected one or more blocks starting -----BEGIN CERTIFICATE-----".into(),
            ));
        }
        Ok(CaCerts { certs, files: vec![path.to_path_buf()] })
    }

    /// The certificates of every file in `paths`, in order.
    pub fn read_all<P: AsRef<Path>>(paths: &[P]) -> Result<CaCerts, TlsError> {
        let mut all = CaCerts::none();
        for path in paths {
            all.extend(CaCerts::read(path.as_ref())?);
        }
        Ok(all)
    }

    /// Adds the certificates of `other`.
    pub fn extend(&mut self, other: CaCerts) {
        self.certs.extend(other.certs);
        self.files.extend(other.files);
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// The files the certificates came from.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

fn pem_error(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => {
            format!("the block has no `-----END {}-----` line", String::from_utf8_lossy(end_marker).trim())
        }
        pem::Error::IllegalSectionStart { line } => {
            format!("`{}` is not a valid BEGIN line", String::from_utf8_lossy(line).trim())
        }
        pem::Error::Base64Decode(e) => format!("the base64 text is damaged ({e})"),
        other => other.to_string(),
    }
}

/// The crypto provider of every config lunli makes (see the crate's docs for why ring).
#[allow(deprecated, reason = "ring: aws-lc-rs needs cmake and builds far slower (see the crate's docs)")]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client config for a TLS server: its certificate chain and name checked against the
/// system's roots and `extra`.
pub fn client_config(extra: &CaCerts) -> Result<rustls::ClientConfig, TlsError> {
    let provider = provider();
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra.certs.iter().cloned(), provider.clone())
            .map_err(|e| TlsError::Setup(format!("cannot load the trusted CA certificates: {e}")))?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        // Not "dangerous" in effect: the platform verifier checks chains and names like the
        // default one, and rustls only reaches a verifier of its own through this door.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// A client config for a connection that never makes a TLS handshake (a plain `http` endpoint
/// behind a connector that needs a config anyway): it trusts nothing and needs no system roots.
pub fn plain_config() -> Result<rustls::ClientConfig, TlsError> {
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// When `error` (or any error beneath it) is the server's certificate failing verification,
/// what was wrong with it. Each caller words it with its own flags (`--ca-cert`,
/// `--engine-ca-cert`).
pub fn certificate_problem(error: &(dyn StdError + 'static)) -> Option<CertificateError> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(problem)) = e.downcast_ref::<rustls::Error>() {
            return Some(problem.clone());
        }
        // An io::Error's source() skips the error it wraps, and clients wrap tokio-rustls'
        // io::Error (holding rustls' error) in another io::Error: step into what each one wraps.
        next = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    fn reason(result: Result<CaCerts, TlsError>) -> String {
        match result {
            Err(TlsError::CaCert { reason, .. }) => reason,
            other => panic!("expected a CA file error, got {other:?}"),
        }
    }

    #[test]
    fn ca_files_are_read_and_bad_ones_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["ca.test".into()])
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        let two = file(dir.path(), "two.pem", &format!("{}{}", cert.pem(), cert.pem()));
        let one = file(dir.path(), "one.pem", &cert.pem());
        let all = CaCerts::read_all(&[&two, &one]).expect("two files");
        assert_eq!(all.len(), 3);
        assert_eq!(all.files(), [two.clone(), one.clone()]);
        assert!(client_config(&all).is_ok());

        let none = file(dir.path(), "none.pem", "no certificate here\n");
        assert!(reason(CaCerts::read(&none)).contains("holds no PEM certificate"));
        let private = file(dir.path(), "key.pem", &key.serialize_pem());
        assert!(reason(CaCerts::read(&private)).contains("never a private key"));
        let cut = cert.pem().replace("-----END CERTIFICATE-----", "");
        let cut = file(dir.path(), "cut.pem", &cut);
        assert!(reason(CaCerts::read(&cut)).contains("no `-----END CERTIFICATE-----` line"));
        let missing = dir.path().join("missing.pem");
        let error = CaCerts::read(&missing).expect_err("no such file");
        assert!(error.to_string().contains("missing.pem") && error.to_string().contains("cannot read it"));
    }

    #[test]
    fn a_certificate_problem_is_found_beneath_io_errors() {
        let rustls_error = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let inner = std::io::Error::other(rustls_error);
        let outer = std::io::Error::other(inner);
        assert_eq!(certificate_problem(&outer), Some(CertificateError::UnknownIssuer));
        assert_eq!(certificate_problem(&std::io::Error::other("connection refused")), None);
    }
}
