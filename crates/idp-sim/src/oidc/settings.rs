//! The OpenID Connect issuer's seed: registered relying parties and the people who can sign
//! in, plus the ID-token faults tests switch on to check a relying party's verification.

use serde::{Deserialize, Serialize};

/// The `oidc:` section of the seed; absent, every `/oidc/…` route answers 404.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// Registered relying parties.
    #[serde(default)]
    pub clients: Vec<OidcClient>,
    /// Who can sign in (the sign-in page lists them all).
    #[serde(default)]
    pub people: Vec<OidcPerson>,
}

/// A registered relying party.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcClient {
    /// `client_id`.
    pub client_id: String,
    /// The secret of a confidential client (test data); `None` is a public client
    /// (token endpoint auth method `none`).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Redirect URIs, compared exactly (no prefix, no normalisation).
    pub redirect_uris: Vec<String>,
    /// `RS256` (the default, as OIDC Dynamic Client Registration says) or `ES256`.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
}

/// Someone who can sign in.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcPerson {
    /// `sub`.
    pub subject: String,
    /// `email` (with `email_verified: true`).
    pub email: String,
    /// `name`.
    pub name: String,
    /// Extra ID-token claims (`passgate_role`, `passgate_tenants`…); they never replace the
    /// issuer's own claims (the seed is refused if one tries).
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// A deliberate defect in the ID tokens issued while it is set, so a relying party's
/// verification can be tested against a real issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenFault {
    /// One byte of the signature flipped.
    BadSignature,
    /// `aud` is `another-client`.
    WrongAudience,
    /// `iss` is the issuer + `/evil`.
    WrongIssuer,
    /// `exp` ten minutes ago (past any relying party's clock leeway), `iat` 900 s ago.
    Expired,
    /// `nonce` is `not-the-nonce`.
    WrongNonce,
    /// Header `alg: none`, empty signature.
    AlgNone,
    /// Signed with the real key but `kid: rotated-away`.
    UnknownKid,
}

impl IdTokenFault {
    /// Every fault, so a relying party's tests can try each one (and a new one with them).
    pub const ALL: [Self; 7] = [
        Self::BadSignature,
        Self::WrongAudience,
        Self::WrongIssuer,
        Self::Expired,
        Self::WrongNonce,
        Self::AlgNone,
        Self::UnknownKid,
    ];
}

/// The algorithms the issuer signs ID tokens with.
pub(crate) const ALGORITHMS: [&str; 2] = ["RS256", "ES256"];

/// The claims the issuer sets itself (the discovery document lists them).
pub(crate) const ISSUER_CLAIMS: [&str; 11] = [
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "email",
    "email_verified",
    "name",
];

/// Registered claims the issuer never sets but whose meaning is fixed: a person's extra
/// claims may not use these names, nor [`ISSUER_CLAIMS`].
const OTHER_REGISTERED_CLAIMS: [&str; 5] = ["nbf", "jti", "acr", "amr", "at_hash"];

impl OidcClient {
    /// The ID-token signing algorithm (`RS256` unless registered otherwise).
    pub(crate) fn alg(&self) -> &str {
        self.id_token_signed_response_alg
            .as_deref()
            .unwrap_or("RS256")
    }
}

impl OidcSettings {
    /// Refuses a seed a real provider's registration would refuse: duplicate or empty
    /// client ids, clients without redirect URIs or with relative or fragment-carrying ones,
    /// unsupported algorithms, duplicate subjects, extra claims named like the issuer's.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let mut ids = std::collections::BTreeSet::new();
        for client in &self.clients {
            if client.client_id.is_empty() || !ids.insert(client.client_id.as_str()) {
                return Err(format!(
                    "oidc client id {:?} is empty or repeated",
                    client.client_id
                ));
            }
            if client.redirect_uris.is_empty() {
                return Err(format!(
                    "oidc client {} has no redirect_uris",
                    client.client_id
                ));
            }
            for uri in &client.redirect_uris {
                let parsed = url::Url::parse(uri).map_err(|e| {
                    format!("oidc client {}: redirect uri {uri}: {e}", client.client_id)
                })?;
                if parsed.fragment().is_some() {
                    return Err(format!(
                        "oidc client {}: redirect uri {uri} has a fragment",
                        client.client_id
                    ));
                }
            }
            if !ALGORITHMS.contains(&client.alg()) {
                return Err(format!(
                    "oidc client {}: id_token_signed_response_alg {} is not RS256 or ES256",
                    client.client_id,
                    client.alg()
                ));
            }
        }
        let mut subjects = std::collections::BTreeSet::new();
        for person in &self.people {
            if person.subject.is_empty() || !subjects.insert(person.subject.as_str()) {
                return Err(format!(
                    "oidc subject {:?} is empty or repeated",
                    person.subject
                ));
            }
            if let Some(name) = person.claims.keys().find(|k| {
                ISSUER_CLAIMS.contains(&k.as_str()) || OTHER_REGISTERED_CLAIMS.contains(&k.as_str())
            }) {
                return Err(format!(
                    "oidc person {}: claim {name} is the issuer's own",
                    person.subject
                ));
            }
        }
        Ok(())
    }
}
