//! TLS for `https` endpoints: rustls with the ring provider, the system's trusted roots through
//! the platform verifier (on Linux, the CA bundle the system ships), plus CA certificates a user
//! gives for a private model server ([`CaCerts::read`]).
//!
//! The crypto provider is passed to every config explicitly, never installed process-wide, so
//! nothing else in the process depends on which provider this crate chose.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem;

use crate::ProbeError;

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
    pub fn read(path: &Path) -> Result<CaCerts, ProbeError> {
        let bad = |reason: String| ProbeError::CaCert { file: path.to_path_buf(), reason };
        let bytes =
            std::fs::read(path).map_err(|source| ProbeError::Io { action: "read", path: path.into(), source })?;
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

/// ring, not aws-lc-rs (which needs cmake and builds far slower). rustls 0.23.48 deprecates it
/// for lacking post-quantum key exchange; classical TLS 1.2/1.3 key exchange is what the model
/// servers this talks to (llama.cpp, vLLM behind uvicorn) offer anyway.
#[allow(deprecated)]
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client config for an `https` endpoint: the system's roots and `extra`.
pub(crate) fn client_config(extra: &CaCerts) -> Result<rustls::ClientConfig, String> {
    let provider = provider();
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra.certs.iter().cloned(), provider.clone())
            .map_err(|e| format!("cannot load the trusted CA certificates: {e}"))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        // Not "dangerous" in effect: the platform verifier checks chains and names like the
        // default one, and rustls only reaches a verifier of its own through this door.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // ALPN (http/1.1) is set by the connector.
    Ok(config)
}

/// A client config for a plain `http` endpoint: it never makes a TLS connection, so it trusts
/// nothing (and needs no system roots).
pub(crate) fn plain_config() -> Result<rustls::ClientConfig, String> {
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// When `error` (or any error beneath it) is the server's certificate failing verification,
/// what was wrong with it.
pub(crate) fn certificate_problem(error: &(dyn StdError + 'static)) -> Option<String> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(problem)) = e.downcast_ref::<rustls::Error>() {
            return Some(describe(problem));
        }
        // An io::Error's source() skips the error it wraps, and hyper-rustls wraps tokio-rustls'
        // io::Error (holding rustls' error) in another io::Error: step into what each one wraps.
        next = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

fn describe(problem: &rustls::CertificateError) -> String {
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
