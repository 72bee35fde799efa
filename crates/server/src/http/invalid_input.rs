//! serde's complaints about a request body or query string, retold for people: which field,
//! what it should be, in English and Chinese ("invalid type: integer `123`, expected a string"
//! becomes "'name' must be a string, not the number 123").

use crate::error::Text;

/// Where the input came from, as the messages name it.
#[derive(Clone, Copy)]
pub enum Source {
    Body,
    Query,
}

/// `path` is serde_path_to_error's path ("." at the top, "redirectUris[0]" inside);
/// `problem` is serde's message without its " at line L column C" suffix.
pub fn explain(source: Source, path: &str, problem: &str) -> Text {
    let field = (path != "." && !path.is_empty()).then_some(path);
    let (where_en, where_zh) = match source {
        Source::Body => ("The request body", "请求内容"),
        Source::Query => ("The query string", "查询参数"),
    };
    if let Some(name) = between(problem, "missing field `", "`") {
        let name = field.map_or(name.to_string(), |f| format!("{f}.{name}"));
        return Text::new(format!("'{name}' is required"), format!("缺少“{name}”"));
    }
    if let Some(rest) = problem.strip_prefix("unknown field `") {
        let (name, known) = rest.split_once('`').unwrap_or((rest, ""));
        let known = known
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ")
            .replace('`', "");
        let name = field.map_or(name.to_string(), |f| format!("{f}.{name}"));
        return if known.is_empty() || known.starts_with("there are no fields") {
            Text::new(
                format!("Unknown field '{name}'"),
                format!("未知字段“{name}”"),
            )
        } else {
            Text::new(
                format!("Unknown field '{name}'; the fields are: {known}"),
                format!("未知字段“{name}”；可用的字段：{known}"),
            )
        };
    }
    let subject_en = field.map_or(where_en.to_string(), |f| format!("'{f}'"));
    let subject_zh = field.map_or(where_zh.to_string(), |f| format!("“{f}”"));
    if let Some(rest) = problem
        .strip_prefix("invalid type: ")
        .or_else(|| problem.strip_prefix("invalid value: "))
    {
        if let Some((sent, expected)) = rest.rsplit_once(", expected ") {
            let (sent_en, sent_zh) = got(sent);
            return Text::new(
                format!("{subject_en} must be {expected}, not {sent_en}"),
                format!("{subject_zh}应为{}，而不是{sent_zh}", kind_zh(expected)),
            );
        }
    }
    if let Some(rest) = problem.strip_prefix("unknown variant `") {
        let (got, known) = rest.split_once('`').unwrap_or((rest, ""));
        let known = known
            .trim_start_matches(", expected one of ")
            .replace('`', "");
        let known = known.trim_start_matches(", expected ");
        return Text::new(
            format!("{subject_en} must be one of {known}, not '{got}'"),
            format!("{subject_zh}应为 {known} 之一，而不是“{got}”"),
        );
    }
    if problem == "cannot parse integer from empty string" {
        return Text::new(
            format!("{subject_en} must be a number; it is empty"),
            format!("{subject_zh}应为数字，现在是空的"),
        );
    }
    if problem.contains("invalid digit") || problem.contains("number too large") {
        return Text::new(
            format!("{subject_en} must be a whole number"),
            format!("{subject_zh}应为整数"),
        );
    }
    if problem.contains("provided string was not `true` or `false`") {
        return Text::new(
            format!("{subject_en} must be true or false"),
            format!("{subject_zh}应为 true 或 false"),
        );
    }
    Text::new(
        format!("{subject_en} is not valid: {problem}"),
        format!("{subject_zh}无效：{problem}"),
    )
}

/// JSON that does not parse at all; `line` and `column` come from serde_json.
pub fn not_json(line: usize, column: usize) -> Text {
    Text::new(
        format!("The request body is not valid JSON (line {line}, column {column})"),
        format!("请求内容不是有效的 JSON（第 {line} 行第 {column} 列）"),
    )
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(start)?;
    rest.split_once(end).map(|(inside, _)| inside)
}

/// serde's name of what was sent (`integer \`123\``, `string "abc"`, `null`...), in English
/// and Chinese.
fn got(got: &str) -> (String, String) {
    if let Some(v) = got
        .strip_prefix("integer ")
        .or_else(|| got.strip_prefix("floating point "))
    {
        let v = v.trim_matches('`');
        (format!("the number {v}"), format!("数字 {v}"))
    } else if let Some(v) = got.strip_prefix("boolean ") {
        let v = v.trim_matches('`').to_string();
        (v.clone(), v)
    } else if let Some(v) = got.strip_prefix("string ") {
        (format!("the text {v}"), format!("文本 {v}"))
    } else {
        let (en, zh) = match got {
            "map" => ("an object", "对象"),
            "sequence" => ("a list", "列表"),
            "unit value" | "null" => ("null", "null"),
            other => (other, other),
        };
        (en.to_string(), zh.to_string())
    }
}

/// serde's name of what was expected, in Chinese.
fn kind_zh(expected: &str) -> String {
    let integer = [
        "i8",
        "i16",
        "i32",
        "i64",
        "u8",
        "u16",
        "u32",
        "u64",
        "usize",
        "isize",
        "an integer",
    ];
    if integer.contains(&expected) {
        return "整数".into();
    }
    match expected {
        "a string" => "文本".into(),
        "a boolean" => "true 或 false".into(),
        "f32" | "f64" | "a number" => "数字".into(),
        "a sequence" => "列表".into(),
        "a map" => "对象".into(),
        e if e.starts_with("struct ") => "对象".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_type_names_the_field_in_both_languages() {
        let t = explain(
            Source::Body,
            "name",
            "invalid type: integer `123`, expected a string",
        );
        assert_eq!(t.en, "'name' must be a string, not the number 123");
        assert_eq!(t.zh, "“name”应为文本，而不是数字 123");
    }

    #[test]
    fn an_empty_number_in_a_query() {
        let t = explain(
            Source::Query,
            "userId",
            "cannot parse integer from empty string",
        );
        assert_eq!(t.en, "'userId' must be a number; it is empty");
        assert_eq!(t.zh, "“userId”应为数字，现在是空的");
    }

    #[test]
    fn missing_and_unknown_fields() {
        let t = explain(Source::Body, ".", "missing field `name`");
        assert_eq!(
            (t.en.as_str(), t.zh.as_str()),
            ("'name' is required", "缺少“name”")
        );
        let t = explain(
            Source::Body,
            ".",
            "unknown field `nmae`, expected one of `name`, `title`",
        );
        assert_eq!(t.en, "Unknown field 'nmae'; the fields are: name, title");
        assert_eq!(t.zh, "未知字段“nmae”；可用的字段：name, title");
    }

    #[test]
    fn unknown_variants_list_the_choices() {
        let t = explain(
            Source::Body,
            "tokenEndpointAuthMethod",
            "unknown variant `secret`, expected one of `client_secret_basic`, `none`",
        );
        assert_eq!(
            t.en,
            "'tokenEndpointAuthMethod' must be one of client_secret_basic, none, not 'secret'"
        );
    }
}
