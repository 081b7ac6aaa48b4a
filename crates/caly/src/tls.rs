//! In-process HTTPS: the certificate chain and key from PEM files, served with rustls (the
//! `ring` provider, the one the rest of the binary already uses), HTTP/2 and HTTP/1.1 by ALPN.

use std::{path::Path, sync::Arc};

use anyhow::Context;
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio_rustls::TlsAcceptor;

pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificate chain in http.tls_cert ({})", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "http.tls_cert ({}) holds no certificate", cert.display());
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key in http.tls_key ({})", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("http.tls_cert and http.tls_key do not form a usable certificate and key")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Makes ring the process's default crypto provider, which every outbound client's TLS (reqwest,
/// the recordings bucket's) takes. Idempotent: a provider installed already stays.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
