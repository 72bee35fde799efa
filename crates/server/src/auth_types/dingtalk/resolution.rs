//! From what DingTalk told us to a user of ours: the binding key (`bindBy`), first-time
//! matching (`matchBy`, normalised values, masked numbers never used), sign-up, then one
//! store transaction that decides.

use super::messages::{Failed, Failure};
use super::options::{BindBy, DingTalkOptions, MatchField};
use super::DingTalkShared;
use crate::state::AppState;
use authgate_core::clock::now_ms;
use authgate_core::model::{normalize_email, Authenticator, NewUser, User};
use authgate_core::phone::{normalize_phone, PhoneError};
use authgate_dingtalk::ClientCredentials;
use authgate_store::{ExternalIdentity, IdentityResolution, MatchCandidate, Resolved};
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

/// How the user was found, for the audit log.
pub enum Found {
    Bound,
    Linked(&'static str),
    SignedUp,
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

    pub async fn resolve(&self, facts: &mut Facts) -> Result<(User, Found), Failed> {
        let o = self.options;
        let uuid = match o.bind_by {
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
        };
        let bound = self
            .state
            .store
            .find_identity(&self.authenticator.name, &uuid)
            .await
            .map_err(Failed::internal)?;
        let mut candidates = Vec::new();
        if bound.is_none() {
            let wants = |f| o.match_by.contains(&f);
            // A sign-up also wants the organisation e-mail (the only one trusted enough to keep).
            if (wants(MatchField::OrgEmail) && facts.org_email.is_none())
                || (wants(MatchField::Phone) && self.phone_wanted_but_unusable(facts))
                || (o.auto_signup && facts.org_email.is_none())
            {
                self.fetch_org_entry(facts).await?;
            }
            let mut phone_problem = None;
            for field in &o.match_by {
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
                        if let Some(e) =
                            facts.email.as_deref().and_then(|e| normalize_email(e).ok())
                        {
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
            if let (Some(problem), true) = (phone_problem, candidates.is_empty()) {
                return Err(problem.into());
            }
        }
        let sign_up = o.auto_signup.then(|| NewUser {
            nickname: facts.nick.as_deref().map(clean_nickname),
            phone: self.phone(facts).ok(),
            // Only the organisation-managed address is trusted enough to store.
            email: facts
                .org_email
                .as_deref()
                .and_then(|e| normalize_email(e).ok()),
            enabled: true,
            ..Default::default()
        });
        let request = IdentityResolution {
            identity: ExternalIdentity {
                authenticator: self.authenticator.name.clone(),
                uuid,
                nickname: facts.nick.as_deref().map(clean_nickname),
                avatar: facts.avatar.clone(),
                meta: meta(facts),
            },
            candidates,
            sync_profile: o.sync_profile,
            sign_up,
        };
        let resolved = self
            .state
            .store
            .resolve_identity(&request, now_ms())
            .await
            .map_err(Failed::internal)?;
        match resolved {
            Resolved::Bound(u) => Ok((u, Found::Bound)),
            Resolved::Linked { user, field } => Ok((user, Found::Linked(field))),
            Resolved::SignedUp(u) => Ok((u, Found::SignedUp)),
            Resolved::Ambiguous { fields } => Err(Failed {
                detail: Some(format!("candidates by {}", fields.join(", "))),
                ..Failure::Ambiguous.into()
            }),
            Resolved::AlreadyLinked { field } => Err(Failed {
                detail: Some(format!("matched by {field}")),
                ..Failure::AlreadyLinked.into()
            }),
            Resolved::Disabled(_) => Err(Failure::UserDisabled.into()),
            Resolved::NotFound => Err(Failure::NoMatchingUser.into()),
        }
    }
}

fn no_union_id() -> Failed {
    Failed {
        detail: Some("DingTalk sent no unionId".into()),
        ..Failure::DingTalkUnexpected.into()
    }
}

fn clean_nickname(n: &str) -> String {
    n.chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect::<String>()
        .trim()
        .to_string()
}

/// What the identity row keeps of the DingTalk account.
fn meta(f: &Facts) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in [
        ("nick", &f.nick),
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
