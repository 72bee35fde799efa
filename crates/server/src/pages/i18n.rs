//! Every string of the pages in English and Simplified Chinese, in one catalog. The server
//! renders with [`t`]; the scripts get the whole catalog of the page's language as JSON
//! (see [`catalog_json`]) and look strings up by the same keys.

use crate::lang::Lang;

/// `(key, English, Chinese)`.
const CATALOG: &[(&str, &str, &str)] = &[
    ("app", "authgate", "authgate"),
    ("lang.switch", "中文", "English"),
    ("signin.title", "Sign in", "登录"),
    ("signin.account", "Username or email", "用户名或邮箱"),
    ("signin.password", "Password", "密码"),
    ("signin.submit", "Sign in", "登录"),
    ("signin.dingtalk", "Sign in via DingTalk", "钉钉登录"),
    ("signin.none", "No authentication methods available.", "暂无可用的认证方式。"),
    ("signin.signup_link", "Create an account", "注册账号"),
    ("signin.wrong", "The username/email or password is incorrect, please re-enter", "用户名/邮箱或密码有误，请重新输入"),
    ("signin.locked", "Too many failed attempts. Try again in {s} seconds.", "失败次数过多，请在 {s} 秒后重试。"),
    ("signin.missing", "Please enter your username or email and password", "请输入用户名或邮箱以及密码"),
    ("signin.failed", "The sign-in did not complete. Please try again.", "登录未完成，请重试。"),
    ("signin.going", "Redirecting to DingTalk…", "正在跳转到钉钉…"),
    ("signup.title", "Sign up", "注册"),
    ("signup.submit", "Sign up", "注册"),
    ("signup.confirm", "Confirm password", "确认密码"),
    ("signup.have_account", "Already have an account? Sign in", "已有账号？去登录"),
    ("signup.closed", "Sign-up is not open.", "暂未开放注册。"),
    ("signup.mismatch", "The passwords entered twice do not match", "两次输入的密码不一致"),
    ("field.username", "Username", "用户名"),
    ("field.email", "Email", "邮箱"),
    ("field.phone", "Phone", "手机号"),
    ("field.nickname", "Nickname", "昵称"),
    ("field.password", "Password", "密码"),
    ("field.admin", "Administrator", "管理员"),
    ("field.enabled", "Enabled", "启用"),
    ("account.title", "My account", "我的账号"),
    ("account.profile", "Profile", "个人资料"),
    ("account.identities", "Linked accounts", "已绑定的账号"),
    ("account.no_identities", "No linked accounts.", "没有绑定的账号。"),
    ("account.link", "Link DingTalk account", "绑定钉钉账号"),
    ("account.unlink", "Unlink", "解除绑定"),
    ("account.unlink_confirm", "Unlink this account? You will no longer be able to sign in with it until you link it again.", "确定解除绑定？解除后将无法用它登录，除非重新绑定。"),
    ("account.sessions", "My active sessions", "我的登录会话"),
    ("account.change_password", "Change password", "修改密码"),
    ("account.old_password", "Current password", "当前密码"),
    ("account.new_password", "New password", "新密码"),
    ("account.password_changed", "Password changed.", "密码已修改。"),
    ("account.signout", "Sign out", "退出登录"),
    ("account.admin_link", "Admin console", "管理后台"),
    ("account.this_device", "this device", "当前设备"),
    ("session.authenticator", "Signed in with", "登录方式"),
    ("session.signed_in", "Signed in", "登录时间"),
    ("session.renewed", "Last renewed", "最近续期"),
    ("session.ip", "IP", "IP"),
    ("session.user", "User", "用户"),
    ("session.device", "Device", "设备"),
    ("session.revoke", "Revoke", "注销"),
    ("session.revoke_all", "Revoke all of this user's sessions", "注销该用户的全部会话"),
    ("session.none", "No active sessions.", "没有活跃的会话。"),
    ("common.save", "Save", "保存"),
    ("common.cancel", "Cancel", "取消"),
    ("common.edit", "Edit", "编辑"),
    ("common.delete", "Delete", "删除"),
    ("common.add", "Add", "添加"),
    ("common.search", "Search", "搜索"),
    ("common.yes", "Yes", "是"),
    ("common.no", "No", "否"),
    ("common.saved", "Saved.", "已保存。"),
    ("common.actions", "Actions", "操作"),
    ("common.loading", "Loading…", "加载中…"),
    ("common.confirm_delete", "Delete {name}?", "确定删除 {name}？"),
    ("common.error", "Something went wrong: {m}", "出错了：{m}"),
    ("common.network", "The server cannot be reached. Check your connection and try again.", "无法连接服务器，请检查网络后重试。"),
    ("common.prev", "Previous", "上一页"),
    ("common.next", "Next", "下一页"),
    ("common.page", "Page {p} of {n}", "第 {p} / {n} 页"),
    ("common.copy", "Copy", "复制"),
    ("common.copied", "Copied", "已复制"),
    ("forbidden.title", "Access denied", "无权访问"),
    ("forbidden.text", "Only administrators can open this page.", "只有管理员可以打开此页面。"),
    ("forbidden.back", "Back to my account", "返回我的账号"),
    ("admin.title", "Admin console", "管理后台"),
    ("admin.authenticators", "Authenticators", "认证器"),
    ("admin.users", "Users", "用户"),
    ("admin.sessions", "Sessions", "会话"),
    ("admin.policy", "Token policy", "令牌策略"),
    ("admin.audit", "Audit log", "审计日志"),
    ("auth.name", "Auth UID", "认证标识"),
    ("auth.type", "Type", "类型"),
    ("auth.title", "Title", "标题"),
    ("auth.description", "Description", "描述"),
    ("auth.enabled", "Enabled", "启用"),
    ("auth.order", "Order", "排序"),
    ("auth.up", "Move up", "上移"),
    ("auth.down", "Move down", "下移"),
    ("auth.enable", "Enable", "启用"),
    ("auth.disable", "Disable", "禁用"),
    ("auth.add_type", "Add authenticator of type", "添加认证器，类型"),
    ("auth.options", "Options", "选项"),
    ("auth.redirect_url", "Redirect URL", "回调地址"),
    ("auth.redirect_help", "Paste this URL into the DingTalk developer console (Login to third-party website).", "将此地址填写到钉钉开发者后台（登录第三方网站）。"),
    ("auth.auto_url", "Workbench homepage for login-free sign-in", "工作台首页地址（免登）"),
    ("auth.test", "Test connection", "测试连接"),
    ("auth.test_ok", "Connected: DingTalk accepted the Client ID and Secret.", "连接成功：钉钉接受了 Client ID 和 Secret。"),
    ("auth.test_fail", "DingTalk refused: {m}", "钉钉拒绝：{m}"),
    ("auth.email_warning", "Warning: the personal email is not verified by DingTalk; anyone could claim an address. Only use it if you trust it.", "警告：个人邮箱未经钉钉验证，任何人都可能声明该地址。仅在信任时使用。"),
    ("auth.secret_keep", "Leave empty to keep the stored secret", "留空则保留已保存的密钥"),
    ("auth.json_invalid", "{name} is not valid JSON", "{name} 不是有效的 JSON"),
    ("auth.save_first", "Save the authenticator to see its Redirect URL.", "保存认证器后即可看到回调地址。"),
    ("users.search", "Search users", "搜索用户"),
    ("users.create", "Create user", "创建用户"),
    ("users.edit", "Edit user", "编辑用户"),
    ("users.reset_password", "New password (leave empty to keep)", "新密码（留空则不修改）"),
    ("users.identities", "Linked identities", "绑定的身份"),
    ("users.unlink", "Unlink", "解除绑定"),
    ("users.sessions", "Sessions", "会话"),
    ("users.count", "{n} users", "共 {n} 个用户"),
    ("policy.token", "Token lifetime", "令牌有效期"),
    ("policy.session", "Session lifetime", "会话有效期"),
    ("policy.renew", "Expired-token renewal window", "过期令牌续期时限"),
    ("policy.rule", "The token lifetime must be shorter than the session lifetime", "令牌有效期必须短于会话有效期"),
    ("policy.number", "Enter a whole number of 1 or more", "请输入不小于 1 的整数"),
    ("unit.m", "minutes", "分钟"),
    ("unit.h", "hours", "小时"),
    ("unit.d", "days", "天"),
    ("unit.w", "weeks", "周"),
    ("audit.time", "Time", "时间"),
    ("audit.event", "Event", "事件"),
    ("audit.result", "Result", "结果"),
    ("audit.user", "User id", "用户 ID"),
    ("audit.authenticator", "Authenticator", "认证器"),
    ("audit.reason", "Reason / details", "原因 / 详情"),
    ("audit.since", "From", "开始时间"),
    ("audit.until", "To", "结束时间"),
    ("audit.any", "Any", "全部"),
    ("audit.success", "success", "成功"),
    ("audit.failure", "failure", "失败"),
    ("audit.filter", "Filter", "筛选"),
    ("auto.title", "Authorizing Login", "授权登录中..."),
    ("auto.not_in_client", "This page signs you in inside the DingTalk app. Outside it, use the button below.", "此页面用于在钉钉客户端内登录。在钉钉之外，请使用下面的按钮。"),
    ("auto.failed", "DingTalk sign-in failed: {m}", "钉钉登录失败：{m}"),
    ("auto.no_authenticator", "Login-free sign-in is not configured.", "未配置钉钉免登。"),
    ("auto.retry", "Try again", "重试"),
    // Server messages the pages translate (the API answers in English).
    ("srv.Please keep and enable at least one authenticator", "Please keep and enable at least one authenticator", "请至少保留并启用一个认证器"),
    ("srv.The password is incorrect, please re-enter", "The password is incorrect, please re-enter", "密码不正确，请重新输入"),
    ("srv.The token lifetime must be shorter than the session lifetime", "The token lifetime must be shorter than the session lifetime", "令牌有效期必须短于会话有效期"),
    ("srv.This is the last enabled administrator; make another one first", "This is the last enabled administrator; make another one first", "这是最后一个启用的管理员，请先设置另一个管理员"),
];

/// The text of `key` in `lang` (the key itself when it is missing, so a gap is visible).
pub fn t(lang: Lang, key: &str) -> &str {
    CATALOG
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, zh)| if lang == Lang::Zh { *zh } else { *en })
        .unwrap_or(key)
}

/// The whole catalog in `lang` as a JSON object, for the scripts.
pub fn catalog_json(lang: Lang) -> String {
    let map: serde_json::Map<String, serde_json::Value> = CATALOG
        .iter()
        .map(|(k, en, zh)| {
            let v = if lang == Lang::Zh { *zh } else { *en };
            (k.to_string(), serde_json::Value::String(v.to_string()))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_filled() {
        for (i, (k, en, zh)) in CATALOG.iter().enumerate() {
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
            assert!(
                CATALOG[i + 1..].iter().all(|(k2, _, _)| k2 != k),
                "duplicate {k}"
            );
        }
    }

    #[test]
    fn strings_are_looked_up_by_key() {
        assert_eq!(t(Lang::Zh, "signin.dingtalk"), "钉钉登录");
        assert_eq!(t(Lang::En, "nope"), "nope");
    }
}
