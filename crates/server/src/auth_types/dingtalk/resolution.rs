//! From what DingTalk told us to a user of ours: the binding key (`bindBy`), then the store's
//! returning sign-in; for an identity bound to no one, first-time matching (`matchBy`,
//! normalised values, masked numbers never used) and sign-up, which the store's first-time
//! sign-in decides. Each store call is one unit of work that also writes the session.

use super::messages::{Failed, Failure};
use super::options::{BindBy, DingTalkOptions, MatchField};
use super::outcome::success_audit;
use super::DingTalkShared;
use crate::audit::Entry;
use crate::auth::sessions::{new_session, IssuedSession};
use crate::http::client::ClientInfo;
use crate::state::AppState;
use authgate_core::audit::event;
use authgate_core::clock::now_ms;
use authgate_core::model::{clean_display_name, normalize_email, Authenticator, NewUser, User};
use authgate_core::phone::{normalize_phone, PhoneError};
use authgate_dingtalk::ClientCredentials;
use authgate_store::{
    ExternalIdentity, FirstSignIn, LinkOutcome, MatchCandidate, Resolved, Returned,
    ReturningSignIn, SessionStart,
};
use serde_json::{Map, Value};

/// Everything known about the DingTalk account so far.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    pub union_id: Option<String>,
    pub open_id: Option<String>,
    pub userid: Option<String>,
    pub corp_id: Option<String>,
    pub nick: Option<String>,
    pub avatar: Option<String>,
    pub mobile: Option<String>,
    pub state_code: Option<String>,
    pub email: Option<String>,
    pub org_email: Option<String>,
    /// `getbyunionid` / `v2/user/get` already asked (whatever the answer).
    pub userid_looked_up: bool,
    pub org_entry_fetched: bool,
}

impl Facts {
    /// What names the person, for the audit entry of a refused sign-in.
    pub fn who(&self) -> Vec<(&'static str, String)> {
        [
            ("nick", &self.nick),
            ("unionId", &self.union_id),
            ("userid", &self.userid),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

/// What a DingTalk sign-in needs of its authenticator: the record, its options and the opened
/// Client Secret.
pub struct SignInWith {
    pub authenticator: Authenticator,
    pub options: DingTalkOptions,
    pub creds: ClientCredentials,
}

impl SignInWith {
    /// The enabled DingTalk authenticator `name`, or why a sign-in cannot use it.
    pub async fn load(state: &AppState, name: &str) -> Result<Self, Failed> {
        let authenticator = match state.store.get_authenticator_by_name(name).await {
            Ok(Some(a)) if a.enabled && a.auth_type == super::TYPE_NAME => a,
            Ok(_) => return Err(Failure::AuthenticatorUnavailable.into()),
            Err(e) => return Err(e.into()),
        };
        let options =
            DingTalkOptions::from_stored(&authenticator.options).map_err(Failed::internal)?;
        let creds = options.credentials(state).map_err(Failed::internal)?;
        Ok(Self {
            authenticator,
            options,
            creds,
        })
    }

    pub fn resolver<'a>(&'a self, state: &'a AppState, dt: &'a DingTalkShared) -> Resolver<'a> {
        Resolver {
            state,
            dt,
            authenticator: &self.authenticator,
            options: &self.options,
            creds: &self.creds,
        }
    }
}

pub struct Resolver<'a> {
    pub state: &'a AppState,
    pub dt: &'a DingTalkShared,
    pub authenticator: &'a Authenticator,
    pub options: &'a DingTalkOptions,
    pub creds: &'a ClientCredentials,
}

impl Resolver<'_> {
    /// The org directory id through `getbyunionid`; 60121 means "not in our organisation".
    pub async fn lookup_userid(&self, facts: &mut Facts) -> Result<(), Failed> {
        if facts.userid.is_some() || facts.userid_looked_up {
            return Ok(());
        }
        facts.userid_looked_up = true;
        let union_id = facts.union_id.clone().ok_or_else(no_union_id)?;
        let found = self
            .dt
            .client
            .userid_by_unionid(self.creds, &union_id)
            .await?;
        facts.userid = Some(found.userid);
        Ok(())
    }

    /// Mobile and organisation e-mail from the directory (`v2/user/get`), when reachable.
    async fn fetch_org_entry(&self, facts: &mut Facts) -> Result<(), Failed> {
        if facts.org_entry_fetched {
            return Ok(());
        }
        facts.org_entry_fetched = true;
        if facts.userid.is_none() {
            match self.lookup_userid(facts).await {
                // Outside the organisation (allowed when restrictToOrg is off): no directory entry.
                Err(f) if f.failure == Failure::NotOrgMember => return Ok(()),
                other => other?,
            }
        }
        let Some(userid) = facts.userid.clone() else {
            return Ok(());
        };
        let entry = self.dt.client.user_get(self.creds, &userid).await?;
        let usable = |m: &Option<String>| m.as_deref().is_some_and(|m| !m.contains('*'));
        if usable(&entry.mobile) || facts.mobile.is_none() {
            facts.mobile = entry.mobile.or(facts.mobile.take());
            facts.state_code = entry.state_code.or(facts.state_code.take());
        }
        facts.org_email = entry.org_email.or(facts.org_email.take());
        facts.nick = facts.nick.take().or(entry.name);
        facts.avatar = facts.avatar.take().or(entry.avatar);
        facts.union_id = facts.union_id.take().or(entry.unionid);
        Ok(())
    }

    fn phone(&self, facts: &Facts) -> Result<String, Failure> {
        let mobile = facts.mobile.as_deref().ok_or(Failure::NoPhone)?;
        let cc = facts
            .state_code
            .as_deref()
            .unwrap_or(&self.state.config.default_country_code);
        normalize_phone(cc, mobile).map_err(|e| match e {
            PhoneError::Masked => Failure::MaskedPhone,
            PhoneError::Invalid(_) => Failure::NoPhone,
        })
    }

    fn phone_wanted_but_unusable(&self, facts: &Facts) -> bool {
        let m = facts.mobile.as_deref();
        m.is_none() || m.is_some_and(|m| m.contains('*'))
    }

    /// Resolves the user and starts their session: the binding (or sign-up), the session and
    /// the audit entries (`via`: "web", "inClient") are one unit of work.
    pub async fn sign_in(
        &self,
        facts: &mut Facts,
        client: &ClientInfo,
        via: &'static str,
    ) -> Result<(User, IssuedSession), Failed> {
        let name = &self.authenticator.name;
        let session = new_session(self.state, 0, name, client)
            .await
            .map_err(Failed::from_api)?;
        let start = SessionStart {
            session: session.session.clone(),
            token: session.token.clone(),
            audit: success_audit(client, name, via),
        };
        let user = match self.resolve(facts, start).await {
            Ok(user) => user,
            Err(mut refused) => {
                refused.tried_by = Box::new(facts.who());
                return Err(refused);
            }
        };
        self.state.metrics.sign_in(name, "success");
        let issued = session
            .issue(self.state, user.id)
            .map_err(Failed::internal)?;
        Ok((user, issued))
    }

    /// The user this DingTalk account signs in as, signed in with `start`'s session.
    async fn resolve(&self, facts: &mut Facts, mut start: SessionStart) -> Result<User, Failed> {
        let uuid = self.binding_key(facts).await?;
        // A returning user needs nothing more from DingTalk.
        let now = now_ms();
        start.audit.at = now;
        let returning = ReturningSignIn {
            identity: self.identity(facts, uuid.clone()),
            sync_profile: self.options.sync_profile,
            start,
            now,
        };
        match self.state.store.sign_in_returning(&returning).await {
            Ok(Returned::SignedIn(user)) => return Ok(user),
            Ok(Returned::Disabled(_)) => return Err(Failure::UserDisabled.into()),
            Ok(Returned::NotBound) => {}
            Err(e) => return Err(e.into()),
        }
        // Matching and sign-up may need the directory entry (more calls to DingTalk).
        if self.matching_needs_org_entry(facts) {
            self.fetch_org_entry(facts).await?;
        }
        let candidates = self.candidates(facts)?;
        let sign_up = self.options.auto_signup.then(|| NewUser {
            nickname: facts.nick.as_deref().map(clean_display_name),
            phone: self.phone(facts).ok(),
            // Only the organisation-managed address is trusted enough to store.
            email: facts
                .org_email
                .as_deref()
                .and_then(|e| normalize_email(e).ok()),
            enabled: true,
            ..Default::default()
        });
        // The sign-in is recorded when it is decided, after DingTalk's answers.
        let now = now_ms();
        let mut start = returning.start;
        start.audit.at = now;
        let first_time = FirstSignIn {
            identity: self.identity(facts, uuid),
            candidates,
            sync_profile: self.options.sync_profile,
            sign_up,
            link_requires_password: self.options.link_requires_password,
            start,
            now,
        };
        let resolved = self.state.store.sign_in_first_time(&first_time).await?;
        outcome(resolved)
    }

    /// Links this DingTalk account to `user_id`, who is signed in and asked for it from their
    /// account page: their own session proved who they are, so no matching rule applies.
    pub async fn link_to(
        &self,
        user_id: i64,
        facts: &mut Facts,
        client: &ClientInfo,
    ) -> Result<(), Failed> {
        self.link(user_id, facts, client)
            .await
            .map_err(|mut refused| {
                refused.tried_by = Box::new(facts.who());
                refused
            })
    }

    async fn link(
        &self,
        user_id: i64,
        facts: &mut Facts,
        client: &ClientInfo,
    ) -> Result<(), Failed> {
        let uuid = self.binding_key(facts).await?;
        let identity = self.identity(facts, uuid);
        let audit = Entry {
            event: event::IDENTITY_LINK,
            user_id: Some(user_id),
            actor_id: Some(user_id),
            authenticator: Some(self.authenticator.name.clone()),
            client: Some(client),
            ..Default::default()
        }
        .into_record();
        let linked = self
            .state
            .store
            .link_identity(user_id, &identity, &audit, now_ms())
            .await?;
        match linked {
            LinkOutcome::Linked | LinkOutcome::AlreadyYours => Ok(()),
            LinkOutcome::LinkedToAnother => Err(Failure::LinkedElsewhere.into()),
            LinkOutcome::HasAnother => Err(Failure::AccountHasDingTalk.into()),
            LinkOutcome::UserGone => Err(Failure::UserDisabled.into()),
        }
    }

    fn identity(&self, facts: &Facts, uuid: String) -> ExternalIdentity {
        ExternalIdentity {
            authenticator: self.authenticator.name.clone(),
            uuid,
            nickname: facts.nick.as_deref().map(clean_display_name),
            avatar: facts.avatar.clone(),
            meta: meta(facts),
        }
    }

    /// The key the identity is bound by (`bindBy`).
    async fn binding_key(&self, facts: &mut Facts) -> Result<String, Failed> {
        Ok(match self.options.bind_by {
            BindBy::UnionId => facts.union_id.clone().ok_or_else(no_union_id)?,
            BindBy::Userid => {
                self.lookup_userid(facts).await?;
                facts
                    .userid
                    .clone()
                    .ok_or_else(|| Failed::from(Failure::NotOrgMember))?
            }
            BindBy::Mobile => {
                if self.phone_wanted_but_unusable(facts) {
                    self.fetch_org_entry(facts).await?;
                }
                self.phone(facts)?
            }
        })
    }

    /// Whether a first sign-in would fetch the directory entry before matching.
    fn matching_needs_org_entry(&self, facts: &Facts) -> bool {
        let o = self.options;
        let wants = |f| o.match_by.contains(&f);
        // A sign-up also wants the organisation e-mail (the only one trusted enough to keep).
        !facts.org_entry_fetched
            && ((wants(MatchField::OrgEmail) && facts.org_email.is_none())
                || (wants(MatchField::Phone) && self.phone_wanted_but_unusable(facts))
                || (o.auto_signup && facts.org_email.is_none()))
    }

    /// The `matchBy` candidates in the administrator's order, or why there are none.
    fn candidates(&self, facts: &Facts) -> Result<Vec<MatchCandidate>, Failure> {
        let mut candidates = Vec::new();
        let mut phone_problem = None;
        for field in &self.options.match_by {
            match field {
                MatchField::Phone => match self.phone(facts) {
                    Ok(p) => candidates.push(MatchCandidate::Phone(p)),
                    Err(f) => phone_problem = Some(f),
                },
                MatchField::OrgEmail => {
                    if let Some(e) = facts
                        .org_email
                        .as_deref()
                        .and_then(|e| normalize_email(e).ok())
                    {
                        candidates.push(MatchCandidate::Email {
                            field: "orgEmail",
                            value: e,
                        });
                    }
                }
                MatchField::Email => {
                    if let Some(e) = facts.email.as_deref().and_then(|e| normalize_email(e).ok()) {
                        candidates.push(MatchCandidate::Email {
                            field: "email",
                            value: e,
                        });
                    }
                }
            }
        }
        // Linking by phone is the point of the option: without a usable number (and no
        // other field to go by) a sign-up could duplicate an existing account.
        match (phone_problem, candidates.is_empty()) {
            (Some(problem), true) => Err(problem),
            _ => Ok(candidates),
        }
    }
}

/// The signed-in user, or why there is none.
fn outcome(resolved: Resolved) -> Result<User, Failed> {
    match resolved {
        Resolved::Bound(u) | Resolved::SignedUp(u) | Resolved::Linked { user: u, .. } => Ok(u),
        Resolved::Ambiguous { fields } => Err(Failed {
            detail: Some(format!("candidates by {}", fields.join(", "))),
            ..Failure::Ambiguous.into()
        }),
        Resolved::AlreadyLinked { field } => Err(Failed {
            detail: Some(format!("matched by {field}")),
            ..Failure::AlreadyLinked.into()
        }),
        Resolved::LinkRefused { field, admin } => Err(Failed {
            detail: Some(format!("matched by {field}")),
            ..if admin {
                Failure::AdminNotLinked
            } else {
                Failure::LinkNeedsPassword
            }
            .into()
        }),
        Resolved::Disabled(_) => Err(Failure::UserDisabled.into()),
        Resolved::NotFound => Err(Failure::NoMatchingUser.into()),
    }
}

fn no_union_id() -> Failed {
    Failed {
        detail: Some("DingTalk sent no unionId".into()),
        ..Failure::DingTalkUnexpected.into()
    }
}

/// What the identity row keeps of the DingTalk account.
fn meta(f: &Facts) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in [
        ("nick", &f.nick.as_deref().map(clean_display_name)),
        ("avatar", &f.avatar),
        ("unionId", &f.union_id),
        ("openId", &f.open_id),
        ("userid", &f.userid),
        ("corpId", &f.corp_id),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.clone()));
        }
    }
    m
}
