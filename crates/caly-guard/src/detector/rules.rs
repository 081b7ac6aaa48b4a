//! The rule tables for the classes libinjection does not cover, and the patterns that widen
//! its SQL and XSS coverage. Every pattern runs in the `regex` crate's linear-time engine (no
//! backtracking), compiled ASCII-only over lowercased, decoded text.
//!
//! Each rule has a stable id: it is what a blocked caller sees and what an operator searches
//! the log and audit trail for.

use super::AttackClass::{self, *};
use super::Source;

/// Which rendering of a field a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    /// Decoded and lowercased.
    Lower,
    /// `Lower` with SQL comments replaced by a space and whitespace runs collapsed.
    Sql,
    /// `Lower` with comments, whitespace, control characters and backslashes removed, so
    /// `java\tscript:` and `document /*x*/ . cookie` read as written by a browser.
    Compact,
}

pub(super) struct Rule {
    pub id: &'static str,
    pub class: AttackClass,
    pub view: View,
    pub pattern: &'static str,
    /// Whether the rule reads the request path, as well as its class's other sources.
    in_path: bool,
}

const fn rule(id: &'static str, class: AttackClass, view: View, pattern: &'static str) -> Rule {
    Rule { id, class, view, pattern, in_path: true }
}

impl Rule {
    /// For words that only do harm inside markup or script: a path segment named
    /// `document.cookie` is a file name.
    const fn not_in_path(self) -> Self {
        Self { in_path: false, ..self }
    }

    pub(super) fn reads(&self, source: Source) -> bool {
        self.class.inspects(source) && (self.in_path || source != Source::Path)
    }
}

/// Unix and Windows programs that are not everyday English words: seen after shell syntax, or
/// at the start of a field, they are a command.
macro_rules! distinct_commands {
    () => {
        r"(?:7z[arx]?|aa-\w+|agetty|ansible(?:-\w+)?|apt-get|aptitude|arp|base32|base64|basenc|bcdboot|bcdedit|bitsadmin|bsdtar|bunzip2|busybox|bzip2|c89|c99|certutil|chattr|chef(?:-\w+)?|chgrp|chmod|chown|chroot|cmd\.exe|cpan|crontab|cscli|cscript|dmesg|doas|dpkg|easy_install|flock|gawk|gcc[\\d.-]*|gdb|gunzip|gzip|hexdump|icacls|ifconfig|ipconfig|irb|jjs|journalctl|killall|lastlog(?:in)?|lsof|lwp-\w+|mawk|mshta|mysql|nawk|ncat|netcat|netsh|netstat|nmap|nohup|nslookup|openssl|perl\d*|php[\d.]*|pkexec|pkill|powershell(?:\.exe)?|printenv|pwsh|python[\d.]*|readelf|regedit|regsvr32|rmt(?:-\w+)?|rsync|rundll32|run-parts|schtasks|setarch|sftp|socat|sqlite3|strace|systemctl|systeminfo|taskkill|tasklist|taskset|tclsh|tcpdump|telnet|tftp|tmux|uname|unxz|unzip|useradd|visudo|wget|whoami|wmic|wscript|xargs|xxd|zstdcat|zcat|zypper)"
    };
}

/// Programs whose names are also words (`cat`, `more`, `find`); they count only with
/// shell-shaped arguments.
macro_rules! common_commands {
    () => {
        r"(?:ab|at|awk|bash|bridge|cat|csh|curl|grep|ksh|zsh|cc|cd|cmd|column|comm|cp|cut|dash|dd|diff|dig|du|echo|ed|env|eval|exec|expand|expect|export|find|fold|ftp|gem|git|hd|head|host|id|install|ip|java|jq|kill|last|ld|less|ln|locate|lp|ls|lua|mail|make|more|mount|mv|nano|nc|net|nice|nl|node|od|passwd|paste|perf|pico|ping|pip\d?|printf|ps|rcp|reg|rev|rm|rmdir|rpm|ruby|sc|scp|screen|script|sed|sh|shuf|sleep|sort|split|ss|ssh|su|sudo|tac|tail|tar|tee|time|timeout|top|touch|tr|trap|ul|uniq|unshare|vi|view|vim|xz|yum|zip)"
    };
}

/// How a shell command starts after an injection point: a separator, substitution or
/// redirection, then optional assignments, quotes and a path.
macro_rules! shell_start {
    () => {
        r#"(?:[;|`\n\r]|&&?|\$\(\(?|\$\{|<\(|>\(|\(\s*\)\s*\{)\s*(?:\$\w*\s*|\w+=\S*\s+|(?:time|nohup|strace|nice|sudo|exec)\s+)*[\s"'(]*(?:[\w.~/-]*/)?["'\\]*"#
    };
}

/// Arguments only a shell command has: options, paths, variables, redirections.
macro_rules! strict_args {
    () => {
        r#"["'\\]*(?:$|\$[\w{(]|\s*[;|&`)<>\n]|\s+(?:[-/$~'"\\{]|\.{1,2}/|[\w.-]+[/=]|[a-z]+://|\w+\s*[;|&<>])"#
    };
}

pub(super) static RULES: &[Rule] = &[
    // SQL injection, beyond libinjection's tokenizer.
    rule(
        "sqli-union",
        SqlInjection,
        View::Sql,
        r"\bunion\b.*?\bselect\b|union.*?select.*?from|\bunion(?: all| distinct(?:row)?)?(?: |\()*select\b",
    ),
    rule(
        "sqli-tautology",
        SqlInjection,
        View::Sql,
        r#"['"`\d)] ?(?:or|and|xor|div|\|\||&&) ?\(* ?(?:\w+|'[^']*'|"[^"]*") ?\)* ?(?:=|<=?>?|>=?|!=|\blike\b|\brlike\b|\bregexp\b|\bis\b|\bbetween\b)|['"`][^'"`]*['"`] ?(?:!=|<>|=|<=?|>=?) ?['"`]"#,
    ),
    rule(
        "sqli-time",
        SqlInjection,
        View::Sql,
        r#"\b(?:sleep|benchmark|pg_sleep|randomblob|dbms_pipe\.receive_message|dbms_lock\.sleep) ?\(|\bwaitfor ?(?:delay|time) ?['"\d]"#,
    ),
    rule(
        "sqli-statement",
        SqlInjection,
        View::Sql,
        r#"(?:^|[;'"`)/] ?|\b(?:and|or|then|else|begin|declare|--)\s)(?:insert (?:ignore )?into|replace\b.*?\bvalues\b|update \w+ set|delete from|drop (?:table|database|schema|view|index|user|function|procedure)|create (?:table|database|schema|user|function|procedure|view|index|trigger)|alter (?:table|database|user|view|function|procedure)|truncate (?:table )?\w|rename table|exec(?:ute)? ?[\w@(]|declare ?@|shutdown\b|select ?(?:\*|null\b|\d|@|\(|\w+ ?(?:,|\(|from\b))|load (?:data|xml)|grant \w|open \w)|; ?(?:truncate|rename)\b\W*\w{2,}"#,
    ),
    rule("sqli-quote-comment", SqlInjection, View::Sql, r#"[\w)\]]['"`] ?\)* ?(?:--\s*\S{0,3}$|#|/\*|;\s*(?:--|#|$))"#),
    rule("sqli-split-query", SqlInjection, View::Sql, r#"^(?:[^']*'|[^"]*"|[^`]*`) ?;"#),
    rule(
        "sqli-catalog",
        SqlInjection,
        View::Lower,
        r"\b(?:information_schema|sysobjects|syscolumns|sysusers|systables|sysdatabases|msysaccess\w*|msysobjects|msysqueries|msysrelationships|pg_catalog|pg_toast|pg_shadow|pg_namespace|sqlite_(?:temp_)?master|mysql\.(?:user|db)|msdb|tempdb|northwind|all_tables|user_tables|dba_users|sysaux|sys\.database_name|schema_name)\b|\b(?:database|schema|db_name|current_user|session_user|system_user|user_name|connection_id)\s*\(",
    ),
    rule(
        "sqli-function",
        SqlInjection,
        View::Sql,
        r"\b(?:concat_ws|group_concat|load_file|extractvalue|updatexml|name_const|make_set|export_set|unhex|aes_(?:de|en)crypt|des_(?:de|en)crypt|compress|uncompress|from_base64|to_base64|char_length|character_length|substring_index|last_insert_id|row_count|found_rows|sqlite_\w+|randomblob|zeroblob|jsonb?_\w+|xmltype|utl_\w+\.\w+|dbms_\w+|sys_context|atan2|log10|log2|soundex|unistr|lo_(?:import|export|get|put)|pg_\w+|getpgusername|find_in_set|strcmp|nchar|geometrycollection|multipoint|multilinestring|multipolygon|linestring|to_char|to_number|sysdate|date_format|date_add|date_sub|from_unixtime|unix_timestamp|ifnull|nullif|coalesce|substr|substring|concat|instr|lpad|rpad|ltrim|rtrim|ascii|benchmark|md5|sha[12]?|crc32|elt|iif|isnull|rand|floor|pow|sin|cos|tan|atan|sqrt|chr|polygon|decode|encode|hex|mid|ord)[^\w(]{0,3}\(|\b(?:version|user|char|insert|log|exp|ceiling|reverse|locate|convert|cast|now|power|abs|count|length|left|right|repeat|quote|lower|upper|trim|round|sign|mod|if)\(",
    ),
    rule(
        "sqli-mssql",
        SqlInjection,
        View::Sql,
        r"\bexec(?:ute)? ?master\.|\bxp_\w+|\bsp_(?:executesql|oacreate|makewebtask|password|addlogin)\b|\binto ?(?:out|dump)file\b|\bopen(?:rowset|datasource|query) ?\(|\bexec ?\( ?@|\bdeclare ?@\w|@@(?:version|datadir|hostname|servername|basedir|identity|spid)\b|\bselect\b.*?\buser ?\(",
    ),
    rule(
        "sqli-conditional",
        SqlInjection,
        View::Sql,
        r"\bcase ?when\b.*?\bthen\b|\) ?like ?\(|\bselect\b.*?\bhaving\b|\bif ?\( ?\w+ ?[=<>~!]|\bwhen ?\d+ ?then\b|\border by if\w* ?\(",
    ),
    rule(
        "sqli-dialect",
        SqlInjection,
        View::Sql,
        r#"\balter ?\w+.*?\bchar(?:acter)? set\b|['"`];* ?waitfor ?(?:time|delay)|;.*?: ?goto\b|\bmerge\b.*?\busing ?\(|\bexecute ?immediate ?['"]|\bmatch ?[\w(),+-]+ ?against ?\(|; ?shutdown ?(?:;|--|#|/\*|$)|\bselect ?pg_sleep|\bprocedure ?analyse\b|\bcreate (?:function|procedure) ?\w+ ?\(|\bcreate function .+ returns\b|\bend ?\) ?;|['"`] regexp\b|['"`\w] as ['"`][^'"`]*['"`] ?from\b|['"`] as \w+ ?from\b|\w as \w*['"`] ?from\b"#,
    ),
    rule(
        "sqli-nosql-operator",
        SqlInjection,
        View::Lower,
        r"(?:^|[\[\s{,'])\$(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|not|nor|expr|elemmatch|all|size|type|mod|text|jsonschema|function|accumulator)\b",
    ),
    rule(
        "sqli-pg-cast",
        SqlInjection,
        View::Sql,
        r"::(?:bigint|bool(?:ean)?|double precision|int[248]?|integer|numeric|oid|real|smallint|text|varchar|jsonb?|regclass|bytea|inet)\b",
    ),
    rule(
        "sqli-json-operator",
        SqlInjection,
        View::Compact,
        r#"['"`][\[{][^\]}]*[\]}]+['"`](?:::|@>|<@|\?|#>|->|\|\||=|<|>)|(?:@>|<@|\?[|&]|#>>?|->>?)['"`][\[{$]|\bjson_extract\b"#,
    ),
    rule("sqli-inline-comment", SqlInjection, View::Lower, r"/\*!?\d*[\s\S]*?\*/|/\*!\d+"),
    rule("sqli-scientific", SqlInjection, View::Sql, r"\d\.e(?:[(),]|\.[$\w])"),
    rule(
        "sqli-magic-number",
        SqlInjection,
        View::Lower,
        r"^(?:-0000023456|4294967295|4294967296|2147483648|2147483647|0000012345|-2147483648|-2147483649|0000023456|2\.2250738585072007e-308|2\.2250738585072011e-308|1e309)$",
    ),
    // Cross-site scripting, beyond libinjection.
    rule(
        "xss-tag",
        Xss,
        View::Compact,
        r"<[^\w<>]*(?:[a-z]+:)?[^\w<>]*(?:script|form|style|svg|marquee|link|object|embed|applet|param|i?frame|frameset|base|body|meta|img|image|video|audio|bindings|animate|math|details|dialog|isindex|input|button|textarea|keygen|template|noscript|xmp|plaintext|layer|ilayer|bgsound|blink|source|track|xss|html|title|vmlframe|!entity|!doctype|!\[cdata\[|\?xml)\b|<\??import",
    ),
    rule(
        "xss-namespaced-tag",
        Xss,
        View::Compact,
        r"<[a-z]*:[a-z]+\b|\bxmlns(?::\w+)?=|xlink:href|xsi:schemalocation|!entity",
    ),
    rule(
        "xss-handler",
        Xss,
        View::Lower,
        r#"(?:^|[\s"'`/;<>(+])on[a-z]{3,60}\s*=|\b(?:formaction|srcdoc|dynsrc|lowsrc|ping|background|style)\s*=\s*['"]?[^'"\s>]*(?:javascript|expression\s*\(|url\s*\(\s*['"]?\s*javascript)|<input[^>]*\bpattern\s*=|['"\s<]formaction\s*="#,
    ),
    rule(
        "xss-script-uri",
        Xss,
        View::Compact,
        r"(?:java|vb|live|ecma|mocha|j)script:|(?:^|[^\w])data:(?:[a-z]+/[\w+.-]+)?[;,]|-moz-binding|@import|expression\(|behaviou?r:url|url\(javascript|\+ad[w4]-",
    ),
    rule(
        "xss-dom",
        Xss,
        View::Compact,
        r"\bdocument\.(?:cookie|write|domain|location|body|createelement|queryselector\w*|getelementby\w+|forms|referrer|url)\b|\bwindow\.(?:location|open|name)\b|\.(?:innerhtml|outerhtml|parentnode|textcontent)\b|\blocation\.(?:href|hash|search|replace)\b|<!--#\w|\(document\)\[",
    )
    .not_in_path(),
    rule(
        "xss-js-call",
        Xss,
        View::Compact,
        r"\b(?:eval|settimeout|setinterval|alert|prompt|confirm|atob|btoa|fromcharcode|execscript|globaleval)\(|\bnewfunction\(|\bimport\(|\b(?:self|window|top|parent|frames|globalthis|this|document|content|opener)\[|\.(?:call|apply|bind)`|\breflect\.\w+|!!\[\]|!\[\]\+|\[\]\[|\+!\+\[\]",
    ),
    // Path traversal and local file inclusion.
    rule("lfi-traversal", PathTraversal, View::Lower, r"(?:^|[/\\;]|0x5c|0x2f)(?:\.|0x2e){2,3}(?:[/\\;]|0x5c|0x2f|$)"),
    rule(
        "lfi-restricted-file",
        PathTraversal,
        View::Lower,
        r"(?:^|[/\\])\.(?:aws|ssh|git|svn|hg|docker|kube|env|claude|cursor|continue|aider|roo|zed|cline|kiro|windsurf|rovodev|codex|opencode|a0proj|plandex|fabric|n8n|junie|aiignore|cursorignore|vscode|idea|history|npmrc|netrc|pgpass)\b|\b[\w.-]+\.(?:sql|bak|old|orig|swp|save|backup)(?:\.(?:zip|gz|tgz|tar|7z|rar))?$|wp-content/\w*(?:debug|error)s?\.log|/@fs/|/@id/__x00__|(?:^|[/\\>])(?:sys/(?:class|kernel|devices|power|block|bus|firmware|module)|proc/(?:interrupts|version|cpuinfo|meminfo|mounts|net|sys|self|\d+)|tmp/\w|dev/(?:shm|tcp|udp)/)|(?:^|[/\\])etc[/\\]\w",
    ),
    rule(
        "lfi-system-file",
        PathTraversal,
        View::Lower,
        r"(?:^|[/\\])(?:etc[/\\](?:passwd|shadow|group|hosts|issue|motd|crontab|sudoers|hostname|resolv\.conf|fstab|mtab|inittab|profile|bashrc|ssh[/\\]|httpd[/\\]|apache2?[/\\]|nginx[/\\]|mysql[/\\]|php\d*[/\\])|proc[/\\](?:self|\d+)[/\\]|(?:windows|winnt)[/\\](?:system32|win\.ini|system\.ini|repair)|var[/\\](?:log|www|lib|mail|spool)[/\\]|usr[/\\](?:local|lib|share|bin|sbin)[/\\]|root[/\\]|home[/\\][\w.-]+[/\\]\.)|\b(?:boot|win|system)\.ini\b|\.(?:htaccess|htpasswd|htdigest|bash_history|bash_profile|bashrc|zsh_history|profile|netrc|pgpass|my\.cnf|npmrc|dockercfg|git-credentials|ds_store)\b|(?:^|[/\\])\.(?:ssh|aws|git|svn|hg|docker|kube|env)(?:[/\\]|$)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b|\b(?:wp-config|config|settings|localsettings|database|configuration)\.(?:php|inc|bak|old)\b|\bweb\.config\b|\bc:[/\\]",
    ),
    // OS command injection.
    rule(
        "rce-unix-command",
        CommandInjection,
        View::Lower,
        concat!(
            shell_start!(),
            "(?:",
            distinct_commands!(),
            r#"["'\\]*(?:$|[\s$;|&`)<>]|,-)|"#,
            common_commands!(),
            strict_args!(),
            "))"
        ),
    ),
    rule(
        "rce-direct-command",
        CommandInjection,
        View::Lower,
        // A program name alone ("regedit ") is not a command line; after `time`, `sudo`... it is.
        concat!(
            r#"^["'\s]*(?:[\w.~/-]*/)?(?:(?:time|nohup|strace|nice|sudo|exec)\s+["'\\]*"#,
            distinct_commands!(),
            r#"["'\\]*(?:$|[\s;|&`)<>]|,-)|(?:(?:time|nohup|strace|nice|sudo|exec)\s+)?["'\\]*(?:"#,
            distinct_commands!(),
            r#"["'\\]*(?:\s+\S|[;|&`)<>]|,-)|(?:ls|cat|id|printf|echo|env|ps|rm|cp|mv|su|kill|tar|nc|sh|bash|zsh|ksh|csh|curl|grep|perf|dash|git|ruby|node|ansible|ping)"#,
            strict_args!(),
            ")))",
        ),
    ),
    rule(
        "rce-shell-expression",
        CommandInjection,
        View::Lower,
        r"\$\(\(?[^)]*\)|\$\{[^}]*\}|\$\[[^\]]*\]|[<>]\([^)]+\)|/\w*\[!?[^\]/]*\]\w*/|/\w*\[!?[^\]]+\]\w*(?:$|\s|/)|\$\{?ifs\b|~[+-](?:$|\d)|\{[\w]*,[\w,-]*\}|!-\d|\balias\s+(?:[-+]\w+\+?\s+)?[!'%,.@\w-]+=\S",
    ),
    rule(
        "rce-unix-path",
        CommandInjection,
        View::Lower,
        r"(?:^|[\s;|&`'=(])/?(?:usr/)?(?:local/)?s?bin/[a-z][\w.-]*|\$\{?shell\b|/dev/(?:tcp|udp)/|\b(?:bash|sh|nc|ncat)\s+-[ice]\b",
    ),
    rule(
        "rce-windows",
        CommandInjection,
        View::Lower,
        r#"\bfor(?:\s*/[dflr][^%]*)?\s+%+\S+\s+in\s*\(.*\)\s*do\b|\bif(?:\s*/i)?(?:\s+not)?\s+(?:exist|errorlevel|defined|cmdextversion)\b|\bif(?:\s*/i)?(?:\s+not)?\s+(?:"[^"]*"|\S+)\s*(?:==|\s(?:equ|neq|lss|leq|gtr|geq)\s)|\b(?:invoke-(?:webrequest|expression|command|restmethod|item|wmimethod)|start-process|new-object|downloadstring|downloadfile|iex|iwr|iwmi|get-wmiobject|set-executionpolicy)\b|(?:[;|&`\n]|&&|\|\|)\s*["'(,@\s]*(?:[\w.:\\/"-]*\\)?["^]*(?:cmd|powershell|regedit|reg|bcdboot|bcdedit|certutil|bitsadmin|mshta|rundll32|regsvr32|wmic|schtasks|tasklist|taskkill|net|netsh|systeminfo|ipconfig|whoami|sc|vssadmin|wevtutil|icacls|cscript|wscript|type|dir|copy|del|ver)(?:\.exe)?\b\s*(?:$|[/<>|&-]|\s+[\w\\/:.-])|\bcmd(?:\.exe)?\s+/[ck]\b|\bpowershell(?:\.exe)?\s+-"#,
    ),
    // Server-side request forgery and remote file inclusion.
    rule(
        "ssrf-ip-url",
        Ssrf,
        View::Lower,
        r"^(?:file|ftps?|https?|gopher|dict|ldap|tftp|jar|netdoc):/*(?:[^@/]*@)?(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[?[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}|0x[0-9a-f]+|\d{8,10}|localhost)\b",
    ),
    rule(
        "ssrf-metadata",
        Ssrf,
        View::Lower,
        r"169\.254\.169\.254|169\.254\.170\.2|metadata\.google\.internal|metadata\.azure\.com|100\.100\.100\.200|fd00:ec2::254|instance-data\b|/latest/(?:meta-data|user-data|api/token)|/computemetadata/v1|/metadata/instance\b|alibaba\.zone|metadata\.platformequinix\.com|metadata\.packet\.net|169\.254\.169\.123",
    ),
    rule(
        "ssrf-remote-include",
        Ssrf,
        View::Lower,
        r"^(?:file|ftps?|https?)[^?]*\?+$|^(?:mosconfig_absolute_path|_conf\[path\]|_server\[document_root\]|gallery_basedir|path\[docroot\]|appserv_root|config\[root_dir\])$|\binclude\s*\([^)]*(?:file|ftps?|https?)://|(?:mosconfig_absolute_path|_conf\[path\]|_server\[document_root\]|gallery_basedir|path\[docroot\]|appserv_root|config\[root_dir\])=(?:file|ftps?|https?)://|^(?:gopher|dict|ldap|tftp|jar|netdoc|expect|phar|php)://",
    ),
    // Log4Shell-style lookups.
    rule(
        "jndi-lookup",
        Jndi,
        View::Compact,
        r"\$\{[^}]{0,30}\$\{|\$\{(?:[^}]*:)?(?:jndi|ctx|env|sys|lower|upper|date|main|java|base64|k8s|docker|spring|log4j|web|bundle)\b|\$\{:",
    ),
    // Shellshock.
    rule("shellshock", Shellshock, View::Lower, r"^\s*\(\s*\)\s*\{"),
    // CRLF / header injection.
    rule(
        "crlf-header",
        HeaderInjection,
        View::Lower,
        r"[\r\n]\W*(?:content-(?:type|length)|set-cookie|location|refresh|cookie|x-forwarded-(?:for|host|server)|host|via|remote-(?:ip|addr)|x-originating-ip|x-\w+(?:-\w+)*)\s*:|[\r\n]+\s*:|\bhttp/\d(?:\.\d)?\b|<(?:html|meta)\b",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_every_class_has_a_rule() {
        let ids: HashSet<_> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), RULES.len());
        for class in AttackClass::ALL {
            assert!(RULES.iter().any(|r| r.class == class), "no rule for {class:?}");
        }
    }
}
