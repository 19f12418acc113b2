//! The XSS corpus: payload templates and the text each must still show.
//!
//! Placeholders, filled per payload by [`payloads`]:
//!
//! - `{A}`: JavaScript that, if it ever ran, sets `document.title` to
//!   `PWNED-<n>` and fetches `http://127.0.0.1:<port>/pwned/<n>`
//!   (single-quoted strings);
//! - `{Q}`: the same with double-quoted strings;
//! - `{B}`: the same without quotes or spaces (for unquoted attributes);
//! - `{U}`: the beacon URL `http://127.0.0.1:<port>/pwned/<n>`;
//! - `{N}`: the payload's number.
//!
//! The snippet is text the payload must show, wherever it is placed:
//! chosen so that Markdown, JSON views and highlighting leave it alone
//! (no quotes, backslashes, `*`, `_`, brackets, backticks or entities).

/// (template, snippet). Snippets may use `{N}`.
pub const TEMPLATES: &[(&str, &str)] = &[
    // --- script tags -------------------------------------------------------
    (r#"<script>{A}</script>"#, "<script>document.title="),
    (r#"<SCRIPT>{A}</SCRIPT>"#, "<SCRIPT>document.title="),
    (
        r#"<script src={U}></script>"#,
        "<script src=http://127.0.0.1:",
    ),
    (r#"<script>/*</script><script>*/{A}</script>"#, "<script>/"),
    (
        r#"<scr<script>ipt>{A}</scr</script>ipt>"#,
        "<scr<script>ipt>",
    ),
    (
        r#"<script type=module>{A}</script>"#,
        "<script type=module>",
    ),
    (r#"<script	type="text/javascript">{A}</script>"#, "type="),
    (r#""><script>{A}</script>"#, "><script>document.title="),
    (r#"</title><script>{A}</script>"#, "</title><script>"),
    (r#"</textarea><script>{A}</script>"#, "</textarea><script>"),
    (r#"</style><script>{A}</script>"#, "</style><script>"),
    (r#"</script><script>{A}</script>"#, "</script><script>"),
    (
        r#"<!--</script><script>{A}</script>-->"#,
        "<!--</script><script>",
    ),
    (r#"</noscript><script>{A}</script>"#, "</noscript><script>"),
    (r#"<script>{A}//"#, "<script>document.title="),
    (
        r#"</code></pre><script>{A}</script>"#,
        "</code></pre><script>",
    ),
    (
        r#"</summary></details></div></article><script>{A}</script>"#,
        "</summary></details></div></article><script>",
    ),
    (r#"]]><script>{A}</script>"#, "><script>document.title="),
    (r#"<![CDATA[<script>{A}</script>]]>"#, "CDATA"),
    (
        r#"<script>alert(1)</script x={N}>"#,
        "<script>alert(1)</script x=",
    ),
    // --- event handlers ----------------------------------------------------
    (r#"<img src=x onerror="{A}">"#, "<img src=x onerror="),
    (
        r#"<img src=x onerror={B}>"#,
        "<img src=x onerror=document.title=String.fromCharCode(",
    ),
    (r#"<IMG SRC=x ONERROR="{A}">"#, "<IMG SRC=x ONERROR="),
    ("<img src=x onerror\n={B}>", "String.fromCharCode("),
    (r#"<svg onload="{A}">"#, "<svg onload="),
    (r#"<svg/onload={B}>"#, "<svg/onload="),
    (r#"<body onload="{A}">"#, "<body onload="),
    (
        r#"<details open ontoggle="{A}">x</details>"#,
        "<details open ontoggle=",
    ),
    (r#"<details/open/ontoggle={B}>"#, "<details/open/ontoggle="),
    (
        r#"<input autofocus onfocus="{A}">"#,
        "<input autofocus onfocus=",
    ),
    (
        r#"<select autofocus onfocus="{A}"></select>"#,
        "<select autofocus onfocus=",
    ),
    (
        r#"<textarea autofocus onfocus="{A}"></textarea>"#,
        "<textarea autofocus onfocus=",
    ),
    (r#"<iframe onload="{A}"></iframe>"#, "<iframe onload="),
    (
        r#"<video><source onerror="{A}"></video>"#,
        "<video><source onerror=",
    ),
    (r#"<audio src=x onerror="{A}">"#, "<audio src=x onerror="),
    (r#"<marquee onstart="{A}">x</marquee>"#, "<marquee onstart="),
    (
        r#"<div style="animation-name:spin" onanimationstart="{A}">x</div>"#,
        "onanimationstart=",
    ),
    (r#"<body onpageshow="{A}">"#, "<body onpageshow="),
    (
        r#"<svg><animate onbegin="{A}" attributeName=x dur=1s>"#,
        "<svg><animate onbegin=",
    ),
    (
        r#"<svg><set attributeName=onmouseover to={B}>"#,
        "<svg><set attributeName=onmouseover",
    ),
    (r#"<style onload="{A}"></style>"#, "<style onload="),
    (
        r#"<link rel=stylesheet href={U} onload="{A}">"#,
        "<link rel=stylesheet href=",
    ),
    (
        r#"<input type=image src=x onerror="{A}">"#,
        "<input type=image src=x onerror=",
    ),
    (
        r#"<xss onpointerenter="{A}" style=display:block>hover me</xss>"#,
        "<xss onpointerenter=",
    ),
    (r##"<a href="#" onclick="{A}">click {N}</a>"##, "onclick="),
    (
        r#"<keygen autofocus onfocus="{A}">"#,
        "<keygen autofocus onfocus=",
    ),
    (
        r#"<img src=1 onerror=import('{U}')>"#,
        "<img src=1 onerror=import(",
    ),
    ("<div\nonmouseover=\"{A}\">hover</div>", "onmouseover="),
    (r#"<frameset onload={B}>"#, "<frameset onload="),
    (r#"<img src=x onerror="{A}"#, "<img src=x onerror="),
    // --- javascript:, data:, vbscript: in Markdown ----------------------------
    (r#"[jslink{N}](javascript:{A})"#, "jslink{N}"),
    (r#"[mixedcase{N}](JaVaScRiPt:{A})"#, "mixedcase{N}"),
    (r#"[tabbed{N}](java&#x09;script:{A})"#, "tabbed{N}"),
    (r#"[colon{N}](javascript&colon;{A})"#, "colon{N}"),
    (r#"[pct{N}](%6Aavascript:{A})"#, "pct{N}"),
    (
        r#"[datalink{N}](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"#,
        "datalink{N}",
    ),
    (r#"[vbs{N}](vbscript:msgbox(1))"#, "vbs{N}"),
    (r#"![jsimage{N}](javascript:{A})"#, "jsimage{N}"),
    (r#"![remoteimage{N}]({U})"#, "remoteimage{N}"),
    ("[refjs{N}][r{N}]\n\n[r{N}]: javascript:{A}", "refjs{N}"),
    (r#"<javascript:{A}>"#, "javascript:document.title="),
    (r#"[angle{N}](<javascript:{A}>)"#, "angle{N}"),
    (
        r#"![svgdata{N}](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)"#,
        "svgdata{N}",
    ),
    (
        r#"[titled{N}](https://example.com "title\" onmouseover=\"{A}")"#,
        "titled{N}",
    ),
    (
        r#"![alt{N}" onerror="{A}](https://example.com/a.png)"#,
        "alt{N}",
    ),
    (
        r#"[hrefquote{N}](https://example.com/"onmouseover="{A})"#,
        "hrefquote{N}",
    ),
    (r#"[nulljs{N}](java script:{A})"#, "nulljs{N}"),
    (r#"[spacejs{N}]( javascript:{A})"#, "spacejs{N}"),
    (r#"[entjs{N}](&#106;avascript:{A})"#, "entjs{N}"),
    // --- javascript:, data:, vbscript: in raw HTML ----------------------------
    (r#"<a href="javascript:{A}">rawjs{N}</a>"#, "rawjs{N}"),
    (
        r#"<a href="&#106;avascript:{A}">entity{N}</a>"#,
        "entity{N}",
    ),
    (r#"<a href="jav&#x09;ascript:{A}">tab{N}</a>"#, "tab{N}"),
    (
        r#"<a href="data:text/html,<script>{A}</script>">data{N}</a>"#,
        "data{N}",
    ),
    (r#"<a href="vbscript:msgbox(1)">vbs{N}</a>"#, "vbs{N}"),
    (
        r#"<iframe src="javascript:{A}"></iframe>"#,
        "javascript:document.title=",
    ),
    (
        r#"<iframe srcdoc="<script>{A}</script>"></iframe>"#,
        "<iframe srcdoc=",
    ),
    (
        r#"<form action="javascript:{A}"><input type=submit value=go{N}></form>"#,
        "<form action=",
    ),
    (
        r#"<form><button formaction="javascript:{A}">fa{N}</button></form>"#,
        "<form><button formaction=",
    ),
    (
        r#"<object data="javascript:{A}"></object>"#,
        "<object data=",
    ),
    (r#"<embed src="javascript:{A}">"#, "<embed src="),
    (
        r#"<meta http-equiv="refresh" content="0;url=javascript:{A}">"#,
        "<meta http-equiv=",
    ),
    (
        r#"<meta http-equiv="refresh" content="0;url={U}">"#,
        "<meta http-equiv=",
    ),
    (r#"<base href="{U}/">"#, "<base href="),
    (
        r#"<base href="javascript:/a/-alert(1)///////">"#,
        "<base href=",
    ),
    (
        r#"<isindex action=javascript:{B} type=image>"#,
        "<isindex action=javascript:",
    ),
    (
        r#"<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">b64{N}</a>"#,
        "b64{N}",
    ),
    // --- SVG / MathML mutation vectors ---------------------------------------
    (
        r#"<svg><style><img src=x onerror="{A}"></style></svg>"#,
        "<svg><style><img src=x onerror=",
    ),
    (
        r#"<math><mtext><table><mglyph><style><img src=x onerror="{A}">"#,
        "<math><mtext><table><mglyph><style>",
    ),
    (
        r#"<svg></p><style><a id="</style><img src=1 onerror={B}>">"#,
        "<svg></p><style><a id=",
    ),
    (
        r#"<math><mi><style><img src=x onerror="{A}"></style></mi></math>"#,
        "<math><mi><style>",
    ),
    (
        r#"<noscript><p title="</noscript><img src=x onerror={B}>">"#,
        "<noscript><p title=",
    ),
    (
        r#"<svg><foreignObject><img src=x onerror="{A}"></foreignObject></svg>"#,
        "<svg><foreignObject>",
    ),
    (
        r#"<form><math><mtext></form><form><mglyph><svg><mtext><style><path id="</style><img onerror={B} src>">"#,
        "<form><math><mtext></form><form><mglyph>",
    ),
    (
        r#"<svg><script href="data:,{A}"/></svg>"#,
        "<svg><script href=",
    ),
    (
        r#"<svg><a xlink:href="javascript:{A}"><text x=20 y=20>svglink{N}</text></a></svg>"#,
        "<svg><a xlink:href=",
    ),
    (
        r#"<math href="javascript:{A}">mathlink{N}</math>"#,
        "<math href=",
    ),
    (
        r#"<math><maction actiontype=statusline xlink:href=javascript:{B}>ma{N}</maction></math>"#,
        "<math><maction actiontype=statusline",
    ),
    (
        r#"<template><img src=x onerror="{A}"></template>"#,
        "<template><img src=x onerror=",
    ),
    (
        r#"<xmp><img src=x onerror="{A}"></xmp>"#,
        "<xmp><img src=x onerror=",
    ),
    (
        r#"<svg><![CDATA[><image xlink:href="]]><img src=x onerror={B}>"></svg>"#,
        "<svg><",
    ),
    (
        r#"<svg><use href="data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='{Q}'/></svg>#x"/></svg>"#,
        "<svg><use href=",
    ),
    // --- attribute breakouts ------------------------------------------------
    (r#""><img src=x onerror="{A}">"#, "><img src=x onerror="),
    (r#"'><img src=x onerror='{Q}'>"#, "><img src=x onerror="),
    (r#"' autofocus onfocus='{Q}' x='"#, "autofocus onfocus="),
    (r#"" autofocus onfocus="{A}" x=""#, "autofocus onfocus="),
    (
        r#"` onmouseover={B} x=`"#,
        "onmouseover=document.title=String.fromCharCode(",
    ),
    (r#""onmouseover="{A}""#, "onmouseover="),
    (r#"x" style="background:url({U})"#, "background:url(http"),
    (
        r#"&quot;&gt;&lt;img src=x onerror={B}&gt;"#,
        "img src=x onerror=",
    ),
    (r#"" onerror="{A}" data-x=""#, "onerror="),
    // --- </script> and <!-- breakouts ---------------------------------------
    (
        r#"</script><img src=x onerror="{A}">"#,
        "</script><img src=x onerror=",
    ),
    (
        r#"<!-- --><img src=x onerror="{A}"> -->"#,
        "<img src=x onerror=",
    ),
    (
        r#"--!><img src=x onerror="{A}">"#,
        "--!><img src=x onerror=",
    ),
    (r#"<!-- swallow{N}"#, "<!-- swallow{N}"),
    (r#"<script> swallow{N}"#, "<script> swallow{N}"),
    (
        r#"</textarea><img src=x onerror="{A}">"#,
        "</textarea><img src=x onerror=",
    ),
    (
        r#"</title><img src=x onerror="{A}">"#,
        "</title><img src=x onerror=",
    ),
    (
        r#"</style><img src=x onerror="{A}">"#,
        "</style><img src=x onerror=",
    ),
    (r#"<plaintext> plain{N}"#, "<plaintext> plain{N}"),
    (r#"<textarea> open{N}"#, "<textarea> open{N}"),
    (r#"<style>*{display:none}"#, "<style>"),
    (r#"<title>PWNED-{N}</title>"#, "<title>PWNED-{N}</title>"),
    (r#"</p></div></main><h1>fake{N}</h1>"#, "<h1>fake{N}</h1>"),
    // --- CSS injection ----------------------------------------------------------
    (
        r#"<style>body{background:url({U})}</style>"#,
        "<style>body{background:url(",
    ),
    (
        r#"<div style="background-image:url({U})">css{N}</div>"#,
        "background-image:url(",
    ),
    (r#"<style>@import '{U}';</style>"#, "<style>@import"),
    (
        r#"<link rel=stylesheet href="{U}">"#,
        "<link rel=stylesheet href=",
    ),
    (r#"<style>*{display:none!important}</style>"#, "<style>"),
    (
        r#"</style><style>@import url({U});</style>"#,
        "</style><style>@import url(",
    ),
    (r#"<img src="{U}">"#, "<img src="),
    (r#"<svg><image href="{U}"/></svg>"#, "<svg><image href="),
    (
        r#"<style>@font-face{font-family:x;src:url({U})}body{font-family:x}</style>"#,
        "<style>@font-face{font-family:x;src:url(",
    ),
    (r#"<object data="{U}"></object>"#, "<object data="),
    (r#"<embed src="{U}">"#, "<embed src="),
    (r#"<iframe src="{U}"></iframe>"#, "<iframe src="),
    (r#"<video poster="{U}"></video>"#, "<video poster="),
    (r#"<img srcset="{U} 1x">"#, "<img srcset="),
    (r#"<portal src="{U}"></portal>"#, "<portal src="),
    // --- template syntax --------------------------------------------------------
    ("{{7*7}} tmpl{N}", "{{7*7}} tmpl{N}"),
    (
        "{% raw %}{{ 7*7 }}{% endraw %} raw{N}",
        "{% raw %}{{ 7*7 }}{% endraw %} raw{N}",
    ),
    ("${7*7} dollar{N}", "${7*7} dollar{N}"),
    (
        "{{ range(10)|join }} jinja{N}",
        "{{ range(10)|join }} jinja{N}",
    ),
    (
        "{% for x in range(3) %}loop{% endfor %} for{N}",
        "{% for x in range(3) %}loop{% endfor %} for{N}",
    ),
    ("{# comment #} hash{N}", "{# comment #} hash{N}"),
    ("{{ '<script>' ~ 'x' }} concat{N}", "~ "),
    ("#{7*7} <%= 7*7 %> erb{N}", "erb{N}"),
    (
        r#"{{constructor.constructor('{A}')()}}"#,
        "{{constructor.constructor(",
    ),
    ("{% include 'page.html' %} include{N}", "{% include "),
    (
        "{{ messages }} {{ js|safe }} vars{N}",
        "{{ messages }} {{ js|safe }} vars{N}",
    ),
    ("\u{1}sharegen-messages\u{1} mark{N}", "sharegen-messages"),
    (
        "<!--sharegen-messages--> comment{N}",
        "<!--sharegen-messages--> comment{N}",
    ),
    // --- unicode tricks -----------------------------------------------------------
    (
        "\u{202e}<img src=x onerror=\"{A}\"> rtl{N}",
        "<img src=x onerror=",
    ),
    (
        "<scr\u{200b}ipt>{A}</scr\u{200b}ipt> zw{N}",
        "ipt>document.title=",
    ),
    ("[zwlink{N}](java\u{200b}script:{A})", "zwlink{N}"),
    (
        "\u{ff1c}script\u{ff1e}{A}\u{ff1c}/script\u{ff1e}",
        "\u{ff1c}script\u{ff1e}",
    ),
    (
        "a\u{2028}</script>\u{2029}<script>{A}</script>",
        "<script>document.title=",
    ),
    ("\u{feff}<script>{A}</script>", "<script>document.title="),
    ("[fullwidth{N}](\u{ff4a}avascript:{A})", "fullwidth{N}"),
    ("<img\u{338} src=x onerror=\"{A}\">", "src=x onerror="),
    (
        "\u{2067}<svg onload=\"{A}\">\u{2069} isolate{N}",
        "<svg onload=",
    ),
    // --- null bytes -----------------------------------------------------------------
    ("<scr\u{0}ipt>{A}</script>", "ipt>document.title="),
    ("<img src=x one\u{0}rror=\"{A}\">", "<img src=x one"),
    ("[nul{N}](java\u{0}script:{A})", "nul{N}"),
    (
        "<a href=\"java\u{0}script:{A}\">nulhref{N}</a>",
        "nulhref{N}",
    ),
    // --- very long ------------------------------------------------------------------
    ("LONGATTR", "onerror="),
    ("LONGHREF", "long{N}"),
    ("DEEPNEST", "<div><div><div>"),
    // --- everything else --------------------------------------------------------------
    ("```\"><img src=x onerror={B}>\nfence{N}\n```", "fence{N}"),
    (
        "```html\n</code></pre><script>{A}</script>\n```",
        "</code></pre><script>",
    ),
    (
        "\u{1b}[31m<img src=x onerror=\"{A}\">\u{1b}[0m ansi{N}",
        "<img src=x onerror=",
    ),
    (
        "\u{1b}]8;;javascript:{A}\u{1b}\\osc{N}\u{1b}]8;;\u{1b}\\",
        "osc{N}",
    ),
    (
        r#"{"a":"</script><script>{A}</script>"}"#,
        "</script><script>",
    ),
    (
        r#"mail{N}@example.com"onmouseover="{A}"#,
        "mail{N}@example.com",
    ),
    (
        r#"http://example.com/<img src=x onerror={B}>"#,
        "http://example.com/<img src=x onerror=",
    ),
    (r#"www.example.com/"onmouseover="{A}"#, "www.example.com/"),
    (
        r#"<a href=https://example.com/ onmouseover={B}>hov{N}</a>"#,
        "hov{N}",
    ),
    (
        "| <img src=x onerror={B}> | cell{N} |\n|:--|--:|\n| <script>{A}</script> | x |",
        "cell{N}",
    ),
    (
        "note{N}[^f{N}]\n\n[^f{N}]: <img src=x onerror={B}>",
        "note{N}",
    ),
    ("- [x] <img src=x onerror={B}> task{N}", "task{N}"),
    (
        "# heading{N} {#\"><img src=x onerror={B}> .c}",
        "heading{N}",
    ),
    (
        "<system-reminder><img src=x onerror=\"{A}\"></system-reminder> sys{N}",
        "sys{N}",
    ),
    (
        "<command-name><img src=x onerror=\"{A}\"></command-name> cmd{N}",
        "cmd{N}",
    ),
    ("\u{7}\u{8}\u{b}\u{c} ctrl{N} \u{7f}", "ctrl{N}"),
    ("%3Cscript%3E{A}%3C/script%3E", "%3Cscript%3E"),
    ("<<script>script>{A}<</script>/script>", "<<script>script>"),
    ("<a href=\"\\\\127.0.0.1\\x\">unc{N}</a>", "unc{N}"),
];

/// A payload with its number, full text and required snippet.
#[derive(Debug, Clone)]
pub struct Payload {
    pub n: usize,
    pub text: String,
    pub snippet: String,
}

fn char_codes(s: &str) -> String {
    s.chars()
        .map(|c| (c as u32).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The marker a payload's script would set `document.title` to.
pub fn marker(n: usize) -> String {
    format!("PWNED-{n}")
}

/// The URL a payload's script would fetch.
pub fn beacon(port: u16, n: usize) -> String {
    format!("http://127.0.0.1:{port}/pwned/{n}")
}

/// Every payload, filled in for the beacon on `port`.
pub fn payloads(port: u16) -> Vec<Payload> {
    let all: Vec<Payload> = TEMPLATES
        .iter()
        .enumerate()
        .map(|(n, (t, snip))| {
            let u = beacon(port, n);
            let m = marker(n);
            let a = format!("document.title='{m}';fetch('{u}')");
            let q = format!("document.title=\"{m}\";fetch(\"{u}\")");
            let b = format!(
                "document.title=String.fromCharCode({});fetch(String.fromCharCode({}))",
                char_codes(&m),
                char_codes(&u)
            );
            let fill = |s: &str| {
                s.replace("{A}", &a)
                    .replace("{Q}", &q)
                    .replace("{B}", &b)
                    .replace("{U}", &u)
                    .replace("{N}", &n.to_string())
            };
            let text = match *t {
                "LONGATTR" => format!(
                    "<img src=x title=\"{}\" onerror=\"{a}\">",
                    "A".repeat(20_000)
                ),
                "LONGHREF" => format!(
                    "<a href=\"http://127.0.0.1/{}\" onclick=\"{a}\">long{n}</a>",
                    "x".repeat(5_000)
                ),
                "DEEPNEST" => format!(
                    "{}<img src=x onerror=\"{a}\">{}",
                    "<div>".repeat(400),
                    "</div>".repeat(400)
                ),
                other => fill(other),
            };
            let snippet = fill(snip);
            Payload { n, text, snippet }
        })
        .collect();
    let bad: Vec<String> = all
        .iter()
        .filter(|p| !p.text.contains(&p.snippet))
        .map(|p| {
            format!(
                "payload {}: snippet {:?} not in {:?}",
                p.n, p.snippet, p.text
            )
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    all
}
