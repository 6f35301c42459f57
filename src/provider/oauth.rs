//! The OAuth 2.0 side of a link (SPEC §11), on the `oauth2` crate: the consent URL (with
//! `state`, and PKCE for Xero), the code exchanged for tokens, refreshes (both providers rotate
//! refresh tokens), Xero's client-credentials grant, and revocation. Requests go through this
//! program's own HTTP client (rustls, no redirects followed, answers bounded).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::{BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AsyncHttpClient, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointNotSet, EndpointSet, ExtraTokenFields, HttpRequest,
    HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, RevocationUrl, Scope, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::Provider;
use super::config::ProviderConfig;
use crate::store::Tokens;

/// The most a token endpoint's answer may take: a few tokens and numbers.
const ANSWER_BYTES: usize = 64 * 1024;

/// What QuickBooks adds to a token answer: when the refresh token expires.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RefreshExpiry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x_refresh_token_expires_in: Option<u64>,
}

impl ExtraTokenFields for RefreshExpiry {}

type TokenAnswer = StandardTokenResponse<RefreshExpiry, BasicTokenType>;

type Client = oauth2::Client<
    oauth2::StandardErrorResponse<BasicErrorResponseType>,
    TokenAnswer,
    oauth2::StandardTokenIntrospectionResponse<EmptyExtraTokenFields, BasicTokenType>,
    StandardRevocableToken,
    oauth2::StandardErrorResponse<oauth2::RevocationErrorResponseType>,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
>;

/// Why a token request failed, as the pass and `connect` act on it.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider revoked the link, or let it expire: only `connect` can renew it (exit 77).
    #[error("the {system} connection has expired or was revoked: run bluetape-sync connect {name}")]
    InvalidGrant {
        system: &'static str,
        name: &'static str,
    },
    /// The provider refused the app (its id or secret) or the request: exit 77.
    #[error("{system} refused the app's credentials or request: {detail}")]
    Refused {
        system: &'static str,
        detail: String,
    },
    /// No answer, or not one to read: tried again later (exit 69).
    #[error("{system}'s token endpoint could not be reached: {detail}")]
    Unavailable {
        system: &'static str,
        detail: String,
    },
}

/// A consent URL to show, and what its answer is checked against.
pub struct Consent {
    pub url: Url,
    pub state: CsrfToken,
    pub verifier: Option<PkceCodeVerifier>,
}

/// A provider's OAuth endpoints with the app's credentials.
pub struct OAuth {
    provider: Provider,
    client: Client,
    http: ProviderHttp,
    scopes: Vec<String>,
    client_id: String,
    secret: SecretString,
    revoke_url: Url,
}

impl OAuth {
    pub fn new(config: &ProviderConfig, secret: &SecretString) -> Result<Self, reqwest::Error> {
        let mut client = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::from_url(config.auth_url.clone()))
            .set_token_uri(TokenUrl::from_url(config.token_url.clone()))
            .set_revocation_url(RevocationUrl::from_url(config.revoke_url.clone()));
        if let Some(uri) = &config.redirect_uri {
            client = client.set_redirect_uri(RedirectUrl::from_url(uri.clone()));
        }
        Ok(Self {
            provider: config.provider,
            client,
            http: ProviderHttp::new()?,
            scopes: config.scopes.clone(),
            client_id: config.client_id.clone(),
            secret: secret.clone(),
            revoke_url: config.revoke_url.clone(),
        })
    }

    /// The URL a person opens to consent, with a fresh `state` (and PKCE verifier for Xero).
    pub fn consent(&self) -> Consent {
        let mut request = self.client.authorize_url(CsrfToken::new_random);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let verifier = match self.provider {
            Provider::Xero => {
                let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
                request = request.set_pkce_challenge(challenge);
                Some(verifier)
            }
            Provider::Quickbooks => None,
        };
        let (url, state) = request.url();
        Consent {
            url,
            state,
            verifier,
        }
    }

    /// The tokens a consent's code is worth.
    pub async fn exchange(
        &self,
        code: &str,
        verifier: Option<PkceCodeVerifier>,
        now_ms: i64,
    ) -> Result<Tokens, OAuthError> {
        let mut request = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = verifier {
            request = request.set_pkce_verifier(verifier);
        }
        let answer = request.request_async(&self.http).await;
        self.tokens(answer, now_ms)
    }

    /// New tokens for `refresh`; the answer carries the refresh token to use next.
    pub async fn refresh(&self, refresh: &SecretString, now_ms: i64) -> Result<Tokens, OAuthError> {
        let token = RefreshToken::new(refresh.expose_secret().to_owned());
        let answer = self
            .client
            .exchange_refresh_token(&token)
            .request_async(&self.http)
            .await;
        self.tokens(answer, now_ms)
    }

    /// Xero's Custom Connections: tokens for the app itself.
    pub async fn client_credentials(&self, now_ms: i64) -> Result<Tokens, OAuthError> {
        let mut request = self.client.exchange_client_credentials();
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let answer = request.request_async(&self.http).await;
        self.tokens(answer, now_ms)
    }

    /// Asks the provider to forget the link's refresh token (RFC 7009: a form with the token,
    /// the app authenticated by HTTP Basic). Sent by hand: the `oauth2` crate takes only
    /// `https://` revocation URLs, and a loopback test or proxy is `http://`.
    pub async fn revoke(&self, refresh: &SecretString) -> Result<(), OAuthError> {
        let answer = self
            .http
            .client
            .post(self.revoke_url.clone())
            .basic_auth(&self.client_id, Some(self.secret.expose_secret()))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("token", refresh.expose_secret())
                    .append_pair("token_type_hint", "refresh_token")
                    .finish(),
            )
            .send()
            .await
            .map_err(|e| self.unavailable(e.without_url().to_string()))?;
        match answer.status().as_u16() {
            200..=299 => Ok(()),
            400..=499 => Err(self.refused(format!("the revocation answered {}", answer.status()))),
            _ => Err(self.unavailable(format!("the revocation answered {}", answer.status()))),
        }
    }

    fn tokens<E>(
        &self,
        answer: Result<
            TokenAnswer,
            RequestTokenError<E, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
        >,
        now_ms: i64,
    ) -> Result<Tokens, OAuthError>
    where
        E: std::error::Error + 'static,
    {
        let answer = answer.map_err(|e| match e {
            RequestTokenError::ServerResponse(refusal)
                if *refusal.error() == BasicErrorResponseType::InvalidGrant =>
            {
                OAuthError::InvalidGrant {
                    system: self.provider.system(),
                    name: self.provider.name(),
                }
            }
            RequestTokenError::ServerResponse(refusal) => self.refused(refusal.to_string()),
            RequestTokenError::Request(e) => self.unavailable(e.to_string()),
            RequestTokenError::Parse(e, _) => {
                self.unavailable(format!("an answer that is not a token answer ({e})"))
            }
            RequestTokenError::Other(detail) => self.unavailable(detail),
        })?;
        let after = |seconds: u64| {
            now_ms.saturating_add(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX))
        };
        // Without `expires_in`, an access token is taken to last the 30 minutes both give.
        let access_for = answer.expires_in().unwrap_or(Duration::from_secs(1800));
        Ok(Tokens {
            access: SecretString::from(answer.access_token().secret().clone()),
            access_expires_ms: after(access_for.as_secs()),
            refresh: answer
                .refresh_token()
                .map(|r| SecretString::from(r.secret().clone())),
            refresh_expires_ms: answer.extra_fields().x_refresh_token_expires_in.map(after),
        })
    }

    fn refused(&self, detail: String) -> OAuthError {
        OAuthError::Refused {
            system: self.provider.system(),
            detail,
        }
    }

    fn unavailable(&self, detail: String) -> OAuthError {
        OAuthError::Unavailable {
            system: self.provider.system(),
            detail,
        }
    }
}

/// The `oauth2` crate's requests, sent with this program's client: rustls, no redirect
/// followed (a token request carries the app's secret), answers read up to [`ANSWER_BYTES`].
struct ProviderHttp {
    client: reqwest::Client,
}

/// Why a token request got no answer to read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpFailure(String);

impl ProviderHttp {
    fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: super::http::client()?,
        })
    }

    async fn send(
        client: reqwest::Client,
        request: HttpRequest,
    ) -> Result<HttpResponse, HttpFailure> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let mut outgoing = client.request(parts.method, url).body(body);
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        let answer = outgoing
            .send()
            .await
            .map_err(|e| HttpFailure(e.without_url().to_string()))?;
        let mut response = http::Response::builder().status(answer.status());
        for (name, value) in answer.headers() {
            response = response.header(name, value);
        }
        let body = super::http::body(answer, ANSWER_BYTES)
            .await
            .map_err(HttpFailure)?;
        response.body(body).map_err(|e| HttpFailure(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpFailure;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpFailure>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(Self::send(self.client.clone(), request))
    }
}
