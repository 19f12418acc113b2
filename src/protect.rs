//! Password-protected shares: the rendered page is sealed with AES-256-GCM
//! and wrapped in a neutral shell ("Protected session", a password field)
//! whose inline script opens it with WebCrypto, in the browser.
//!
//! Two kinds of key:
//! - a password, stretched with PBKDF2-HMAC-SHA256 (600,000 iterations,
//!   a random 16-byte salt per share or export);
//! - a random 256-bit key carried in the URL fragment (`#k=…`), which
//!   browsers never send to the host.
//!
//! Every seal draws a fresh random 96-bit nonce; the associated data
//! [`AAD`] binds the ciphertext to this format. The shell's Content
//! Security Policy pins its own inline script and style and those of the
//! page inside, so the page keeps working once the shell writes it into
//! the document, and `default-src 'none'` stays in force throughout.

use crate::error::{Error, Result};
use crate::render::templates::{Templates, b64sha};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

/// PBKDF2-HMAC-SHA256 iterations for new passwords (OWASP's 2023 figure).
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// Fewer iterations than this are refused, wherever they come from.
pub const MIN_ITERATIONS: u32 = 600_000;
pub const SALT_LEN: usize = 16;
pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
/// Associated data of every sealed page (templates/protected.js has it too).
pub const AAD: &[u8] = b"sharegen protected page v1";
/// The title of the shell, whatever the session.
pub const SHELL_TITLE: &str = "Protected session";

/// How a share is protected, as stored in `shares.json` (mode 0600): what
/// a build needs to seal the page again without asking for the password.
/// For a password that is the salt and the derived key, never the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Protection {
    Password {
        /// base64url, 16 bytes.
        salt: String,
        iterations: u32,
        /// The PBKDF2 output, base64url, 32 bytes.
        key: String,
    },
    KeyInUrl {
        /// base64url, 32 bytes: what follows `#k=` in the link.
        key: String,
    },
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs and error messages.
        write!(f, "Protection::{}", self.kind())
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| Error::Usage(format!("no randomness from the operating system: {e}")))?;
    Ok(b)
}

/// PBKDF2-HMAC-SHA256 of `password` into a 256-bit key.
pub fn derive_key(password: &str, salt: &[u8], iterations: u32) -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut key);
    key
}

fn decode_exact<const N: usize>(what: &str, s: &str) -> Result<[u8; N]> {
    let v = B64
        .decode(s.trim_end_matches('='))
        .map_err(|e| Error::Usage(format!("invalid protection {what}: {e}")))?;
    v.try_into().map_err(|v: Vec<u8>| {
        Error::Usage(format!(
            "invalid protection {what}: {} bytes, expected {N}",
            v.len()
        ))
    })
}

impl Protection {
    /// A password protection with a new random salt. Slow on purpose
    /// (PBKDF2 at [`PBKDF2_ITERATIONS`]).
    pub fn password(password: &str) -> Result<Protection> {
        if password.is_empty() {
            return Err(Error::Usage("the password is empty".into()));
        }
        let salt: [u8; SALT_LEN] = random()?;
        let key = derive_key(password, &salt, PBKDF2_ITERATIONS);
        Ok(Protection::Password {
            salt: B64.encode(salt),
            iterations: PBKDF2_ITERATIONS,
            key: B64.encode(key),
        })
    }

    /// A new random 256-bit key for the URL fragment.
    pub fn key_in_url() -> Result<Protection> {
        let key: [u8; KEY_LEN] = random()?;
        Ok(Protection::KeyInUrl {
            key: B64.encode(key),
        })
    }

    /// "password" or "key-in-url".
    pub fn kind(&self) -> &'static str {
        match self {
            Protection::Password { .. } => "password",
            Protection::KeyInUrl { .. } => "key-in-url",
        }
    }

    /// The AES key, checked.
    pub fn key(&self) -> Result<[u8; KEY_LEN]> {
        match self {
            Protection::Password { iterations, .. } if *iterations < MIN_ITERATIONS => {
                Err(Error::Usage(format!(
                    "PBKDF2 iterations {iterations} below the minimum {MIN_ITERATIONS}: share again with --password"
                )))
            }
            Protection::Password { salt, key, .. } => {
                decode_exact::<SALT_LEN>("salt", salt)?;
                decode_exact("key", key)
            }
            Protection::KeyInUrl { key } => decode_exact("key", key),
        }
    }

    /// `#k=…` for a key carried in the URL; `None` for a password.
    pub fn fragment(&self) -> Option<String> {
        match self {
            Protection::KeyInUrl { key } => Some(format!("#k={key}")),
            Protection::Password { .. } => None,
        }
    }

    /// A digest that changes with the key (for build fingerprints; reveals
    /// nothing of the key).
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"sharegen protection digest\0");
        h.update(self.kind().as_bytes());
        match self {
            Protection::Password {
                salt,
                iterations,
                key,
            } => {
                h.update(salt.as_bytes());
                h.update(iterations.to_le_bytes());
                h.update(key.as_bytes());
            }
            Protection::KeyInUrl { key } => h.update(key.as_bytes()),
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Encrypts `plaintext` under this protection's key, with a fresh nonce.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Sealed> {
        let key = self.key()?;
        let nonce: [u8; NONCE_LEN] = random()?;
        let cipher = Aes256Gcm::new_from_slice(&key).expect("the key is 32 bytes");
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: AAD,
                },
            )
            .map_err(|_| Error::Usage("the page is too large to encrypt".into()))?;
        let kdf = match self {
            Protection::Password {
                salt, iterations, ..
            } => Some(Kdf {
                name: "PBKDF2-SHA256".into(),
                iterations: *iterations,
                salt: salt.clone(),
            }),
            Protection::KeyInUrl { .. } => None,
        };
        Ok(Sealed {
            v: 1,
            alg: "AES-256-GCM".into(),
            kdf,
            iv: B64.encode(nonce),
            ct: B64.encode(ct),
        })
    }
}

/// What a protected page carries, as JSON in `<script id="sg-sealed"
/// type="application/json">`. Bytes are base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Format version: 1.
    pub v: u32,
    /// "AES-256-GCM".
    pub alg: String,
    /// How the key comes from a password; absent when the key is in the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kdf: Option<Kdf>,
    /// The 96-bit nonce.
    pub iv: String,
    /// Ciphertext and 128-bit tag.
    pub ct: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kdf {
    /// "PBKDF2-SHA256".
    pub name: String,
    pub iterations: u32,
    pub salt: String,
}

impl Sealed {
    /// The sealed payload of a protected page.
    pub fn from_page(html: &str) -> Result<Sealed> {
        let start = "<script id=\"sg-sealed\" type=\"application/json\">";
        let json = html
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once("</script>"))
            .map(|(json, _)| json)
            .ok_or_else(|| Error::Usage("not a sharegen protected page".into()))?;
        serde_json::from_str(json).map_err(|e| Error::Usage(format!("damaged protected page: {e}")))
    }

    /// Decrypts with a key (from the URL, or derived with [`Sealed::key_for`]).
    pub fn open(&self, key: &[u8; KEY_LEN]) -> Result<Vec<u8>> {
        let nonce = decode_exact::<NONCE_LEN>("nonce", &self.iv)?;
        let ct = B64
            .decode(&self.ct)
            .map_err(|e| Error::Usage(format!("damaged protected page: {e}")))?;
        Aes256Gcm::new_from_slice(key)
            .expect("the key is 32 bytes")
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: AAD })
            .map_err(|_| Error::Usage("wrong password or key, or a damaged page".into()))
    }

    /// The key a password gives for this page.
    pub fn key_for(&self, password: &str) -> Result<[u8; KEY_LEN]> {
        let kdf = self
            .kdf
            .as_ref()
            .ok_or_else(|| Error::Usage("this page's key is in its URL, not a password".into()))?;
        let salt = B64
            .decode(&kdf.salt)
            .map_err(|e| Error::Usage(format!("damaged protected page: {e}")))?;
        Ok(derive_key(password, &salt, kdf.iterations))
    }
}

/// Seals the complete page `page` and returns the shell that carries it.
pub fn seal_page(
    templates: &Templates,
    theme: &str,
    robots: &str,
    page: &[u8],
    protection: &Protection,
) -> Result<String> {
    let sealed = protection.seal(page)?;
    // JSON of base64 strings and numbers: nothing can close the element,
    // but escape `<` all the same.
    let json = serde_json::to_string(&sealed)
        .expect("the sealed page serializes")
        .replace('<', "\\u003c");
    // The page's assets (the theme is checked there), and the shell's:
    // the theme without the highlighting styles, and a few rules of its own.
    let inner = templates.assets(theme)?;
    let css = format!(
        "{}\n{}",
        templates.read(&format!("themes/{theme}.css"))?,
        templates.read("templates/protected.css")?
    );
    let js = templates.read("templates/protected.js")?.into_owned();
    // The shell's own script and style, and those of the page it becomes.
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}' 'sha256-{}'; script-src 'sha256-{}' 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
        b64sha(&css),
        inner.css_hash,
        b64sha(&js),
        inner.js_hash
    );
    let ctx = minijinja::context! {
        csp => csp,
        title => SHELL_TITLE,
        robots => robots,
        generator => format!("sharegen {}", env!("CARGO_PKG_VERSION")),
        mode => protection.kind(),
        css => minijinja::Value::from_safe_string(css),
        js => minijinja::Value::from_safe_string(js),
        sealed => minijinja::Value::from_safe_string(json),
    };
    templates.render("protected.html", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let p = Protection::password("correct horse").unwrap();
        let Protection::Password {
            iterations, salt, ..
        } = &p
        else {
            panic!("{p:?}")
        };
        assert!(*iterations >= 600_000);
        assert_eq!(B64.decode(salt).unwrap().len(), 16);
        let sealed = p.seal(b"<p>hello</p>").unwrap();
        assert_eq!(sealed.kdf.as_ref().unwrap().iterations, *iterations);
        let key = sealed.key_for("correct horse").unwrap();
        assert_eq!(sealed.open(&key).unwrap(), b"<p>hello</p>");
        let wrong = sealed.key_for("correct horse!").unwrap();
        assert!(sealed.open(&wrong).is_err());
    }

    #[test]
    fn every_seal_has_its_own_nonce_and_tampering_is_caught() {
        let p = Protection::key_in_url().unwrap();
        let a = p.seal(b"same").unwrap();
        let b = p.seal(b"same").unwrap();
        assert_ne!(a.iv, b.iv);
        assert_ne!(a.ct, b.ct);
        assert!(a.kdf.is_none());
        let key = p.key().unwrap();
        assert_eq!(a.open(&key).unwrap(), b"same");
        let mut ct = B64.decode(&a.ct).unwrap();
        ct[0] ^= 1;
        let bad = Sealed {
            ct: B64.encode(ct),
            ..a
        };
        assert!(bad.open(&key).is_err());
        assert!(p.fragment().unwrap().starts_with("#k="));
    }

    #[test]
    fn weak_or_damaged_protections_are_refused() {
        let weak = Protection::Password {
            salt: B64.encode([0u8; 16]),
            iterations: 1000,
            key: B64.encode([0u8; 32]),
        };
        assert!(weak.seal(b"x").is_err());
        let short = Protection::KeyInUrl {
            key: B64.encode([0u8; 16]),
        };
        assert!(short.seal(b"x").is_err());
        assert_eq!(format!("{short:?}"), "Protection::key-in-url");
    }
}
