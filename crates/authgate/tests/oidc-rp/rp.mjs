// A relying party built on openid-client, driven by authgate's end-to-end tests.
//
// One JSON request per line on stdin, one JSON answer per line on stdout, in order:
//   {"op": "discover", ...}  ->  {"ok": ...}  or  {"error": {name, message, code, error,
//                                                 error_description, status, cause}}
// `discover` answers a handle that the other operations name as `rp`. Each operation is a thin
// wrapper around one openid-client call, so what the tests check is what that library accepts.

import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const rps = new Map()

// Requests to `issuer`'s origin go to `target` instead when one is set: the load balancer in
// front of several nodes, played by the test (see `route`).
function routedFetch(rp) {
  return (url, options) => {
    const u = new URL(url)
    if (rp.target && u.origin === new URL(rp.issuer).origin) {
      const t = new URL(rp.target)
      u.protocol = t.protocol
      u.host = t.host
    }
    return fetch(u.href, options)
  }
}

function authMethod(name, secret) {
  switch (name) {
    case 'client_secret_basic': return client.ClientSecretBasic(secret)
    case 'client_secret_post': return client.ClientSecretPost(secret)
    case 'none': return client.None()
    default: throw new TypeError(`unknown client authentication ${name}`)
  }
}

function rpOf(req) {
  const rp = rps.get(req.rp)
  if (!rp) throw new TypeError(`no relying party ${req.rp}: discover first`)
  return rp
}

// Token endpoint answers, with the ID token's claims as openid-client verified them.
function tokens(response) {
  return {
    access_token: response.access_token,
    token_type: response.token_type,
    expires_in: response.expires_in,
    scope: response.scope,
    id_token: response.id_token,
    refresh_token: response.refresh_token,
    claims: response.claims() ?? null,
  }
}

// The answer a user-info request gets when it does not go through fetchUserInfo (POST).
async function userInfoAnswer(response, expectedSubject) {
  if (response.status !== 200) {
    const err = new Error(`user info answered ${response.status}`)
    err.name = 'UserInfoError'
    err.status = response.status
    err.challenge = response.headers.get('www-authenticate')
    Object.assign(err, await response.json().catch(() => ({})))
    throw err
  }
  const body = await response.json()
  if (expectedSubject && body.sub !== expectedSubject) {
    throw new Error(`user info is about ${body.sub}, not ${expectedSubject}`)
  }
  return body
}

const ops = {
  async discover(req) {
    const rp = { issuer: req.issuer, target: req.target ?? null }
    const config = await client.discovery(
      new URL(req.issuer),
      req.clientId,
      { ...(req.metadata ?? {}), ...(req.clientSecret ? { client_secret: req.clientSecret } : {}) },
      authMethod(req.auth ?? 'client_secret_basic', req.clientSecret),
      // The issuer is http (the test server); every request, discovery's included, is routed.
      { execute: [client.allowInsecureRequests], [client.customFetch]: routedFetch(rp) },
    )
    // ID tokens from the token endpoint are verified against the JWKS, not only trusted
    // because they came over the back channel.
    client.enableNonRepudiationChecks(config)
    rp.config = config
    const handle = `rp${rps.size + 1}`
    rps.set(handle, rp)
    return { rp: handle, server: config.serverMetadata() }
  },

  // Sends this relying party's requests to another node from now on.
  async route(req) {
    rpOf(req).target = req.target
    return {}
  },

  // PKCE verifier, state and nonce come from openid-client; `pkce`, `state` and `nonce`
  // (default true) leave each out when false. `params` are added as they are.
  async buildAuthorizationUrl(req) {
    const { config } = rpOf(req)
    const out = {}
    const params = { response_type: 'code', scope: 'openid', ...(req.params ?? {}) }
    if (req.pkce !== false) {
      out.codeVerifier = client.randomPKCECodeVerifier()
      params.code_challenge = await client.calculatePKCECodeChallenge(out.codeVerifier)
      params.code_challenge_method = 'S256'
    }
    if (req.state !== false) params.state = out.state = client.randomState()
    if (req.nonce !== false) params.nonce = out.nonce = client.randomNonce()
    out.url = client.buildAuthorizationUrl(config, params).href
    return out
  },

  // The authorization response: `callbackUrl` (query) or `formPost` ({action, fields}).
  async authorizationCodeGrant(req) {
    const { config } = rpOf(req)
    const current = req.formPost
      ? new Request(req.formPost.action, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(req.formPost.fields),
        })
      : new URL(req.callbackUrl)
    const response = await client.authorizationCodeGrant(config, current, {
      expectedState: req.expectedState ?? undefined,
      expectedNonce: req.expectedNonce ?? undefined,
      pkceCodeVerifier: req.codeVerifier ?? undefined,
      maxAge: req.maxAge ?? undefined,
      idTokenExpected: true,
    }, req.tokenParams ?? undefined)
    return tokens(response)
  },

  async refreshTokenGrant(req) {
    const response = await client.refreshTokenGrant(rpOf(req).config, req.refreshToken, req.params)
    return tokens(response)
  },

  async clientCredentialsGrant(req) {
    const response = await client.clientCredentialsGrant(rpOf(req).config, req.params)
    return tokens(response)
  },

  // `method`: GET (openid-client's fetchUserInfo), POST with the Bearer header, or POST with
  // the token in the form body (OIDC Core 5.3.1; openid-client has no call for the last two).
  async fetchUserInfo(req) {
    const { config } = rpOf(req)
    const expected = req.expectedSubject ?? client.skipSubjectCheck
    const endpoint = new URL(config.serverMetadata().userinfo_endpoint)
    switch (req.method ?? 'GET') {
      case 'GET':
        return await client.fetchUserInfo(config, req.accessToken, expected)
      case 'POST-header': {
        const response = await client.fetchProtectedResource(
          config, req.accessToken, endpoint, 'POST', new URLSearchParams(),
          new Headers({ 'content-type': 'application/x-www-form-urlencoded' }),
        ).catch((err) => { if (err.response) return err.response; throw err })
        return await userInfoAnswer(response, req.expectedSubject)
      }
      case 'POST-body': {
        const response = await config[client.customFetch](endpoint.href, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ access_token: req.accessToken }).toString(),
        })
        return await userInfoAnswer(response, req.expectedSubject)
      }
      default:
        throw new TypeError(`unknown user info method ${req.method}`)
    }
  },

  async tokenIntrospection(req) {
    return await client.tokenIntrospection(rpOf(req).config, req.token, req.params)
  },

  async tokenRevocation(req) {
    await client.tokenRevocation(rpOf(req).config, req.token, req.params)
    return {}
  },

  async buildEndSessionUrl(req) {
    return { url: client.buildEndSessionUrl(rpOf(req).config, req.params).href }
  },

  // Runs `requests` at once; each answer as the single operation would give it.
  async parallel(req) {
    return await Promise.all(req.requests.map(answer))
  },
}

async function describeError(err) {
  const out = {
    name: err?.name ?? 'Error',
    message: err?.message ?? String(err),
    code: err?.code ?? null,
    error: err?.error ?? null,
    error_description: err?.error_description ?? null,
    status: err?.status ?? null,
    cause: err?.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : null,
  }
  // A 401 with `WWW-Authenticate` is raised as a challenge; its parameters and the body carry
  // the OAuth error.
  if (Array.isArray(err?.cause)) {
    const params = err.cause[0]?.parameters ?? {}
    out.error ??= params.error ?? null
    out.error_description ??= params.error_description ?? null
  }
  if (err?.response && !err.response.bodyUsed && out.error === null) {
    const body = await err.response.clone().json().catch(() => null)
    out.error = body?.error ?? null
    out.error_description = body?.error_description ?? null
  }
  out.status ??= err?.response?.status ?? null
  return out
}

async function answer(req) {
  try {
    const op = ops[req?.op]
    if (!op) throw new TypeError(`unknown operation ${req?.op}`)
    return { ok: await op(req) }
  } catch (err) {
    return { error: await describeError(err) }
  }
}

// One answer per request, in order, even when a request is not JSON.
let queue = Promise.resolve()
createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(async () => {
    let req
    try {
      req = JSON.parse(line)
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: { name: 'SyntaxError', message: err.message } }) + '\n')
      return
    }
    process.stdout.write(JSON.stringify(await answer(req)) + '\n')
  })
})
