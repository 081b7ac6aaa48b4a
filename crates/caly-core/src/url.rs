//! URLs Caly sends requests to on a tenant's behalf: HTTPS only, a host, no credentials.

use crate::Invalid;

/// An `https://` URL with a host and no user or password in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl(url::Url);

impl HttpsUrl {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let invalid = |why: &str| Invalid::new("invalid_url", format!("must be an https:// URL {why}"));
        let url = url::Url::parse(text).map_err(|_| invalid("such as https://shop.example.com"))?;
        if url.scheme() != "https" {
            return Err(invalid("(plain http is refused)"));
        }
        if url.host_str().is_none_or(|host| !host.contains('.')) {
            return Err(invalid("with a full host name"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("without a user name or password in it"));
        }
        Ok(Self(url))
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_with_a_host_and_no_credentials() {
        assert_eq!(HttpsUrl::parse("https://kurta-ghar.myshopify.com").unwrap().host(), "kurta-ghar.myshopify.com");
        for bad in
            ["http://kurta-ghar.myshopify.com", "https://localhost", "https://user:pw@shop.example.com", "shop", ""]
        {
            assert_eq!(HttpsUrl::parse(bad).unwrap_err().code, "invalid_url", "{bad}");
        }
    }
}
