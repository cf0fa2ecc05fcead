"""Database clients: psql, mysql/mariadb, mongosh/mongo, redis-cli, sqlite3.

The statements a client runs are read from its command line (`psql -c`, `mysql -e`, `mongosh --eval`,
`redis-cli CMD …`) or from its standard input when the command line shows it (a heredoc, a here-string,
`echo … |`). DROP / TRUNCATE / DELETE / ALTER, UPDATE without WHERE, `dropDatabase()`, `deleteMany()`,
FLUSHALL and the like are destructive; INSERT / UPDATE / CREATE / GRANT and other writes are mutating; a
script made only of reads (SELECT, SHOW, `find()`, GET) is read-only; anything else is unknown, as is a
script in a file or an interactive session.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from sre_expert.safety.rulebase import Ctx, Parsed, Rule, long_option, long_value, parse_args, prog
from sre_expert.safety.verdict import DESTRUCTIVE, MUTATING, READ_ONLY, UNKNOWN, Part, highest

if TYPE_CHECKING:
    from sre_expert.safety.shell import Word

# -- SQL ------------------------------------------------------------------------------------------------

_SQL_READ = {"SELECT", "SHOW", "DESCRIBE", "DESC", "VALUES", "TABLE", "BEGIN", "START", "COMMIT", "END", "ROLLBACK",
             "SAVEPOINT", "RELEASE", "SET", "RESET", "FETCH", "DECLARE", "CLOSE", "LISTEN", "UNLISTEN", "USE",
             "CHECKPOINT", "DISCARD", "ABORT", "PRAGMA", "HELP", "STATUS"}
_SQL_DESTROY = {"DROP", "TRUNCATE", "DELETE", "ALTER"}
_SQL_WRITE = {"INSERT", "UPDATE", "UPSERT", "MERGE", "REPLACE", "CREATE", "GRANT", "REVOKE", "COPY", "VACUUM",
              "REINDEX", "CLUSTER", "ANALYZE", "ANALYSE", "REFRESH", "COMMENT", "LOCK", "CALL", "DO", "SECURITY",
              "IMPORT", "LOAD", "REASSIGN", "RENAME", "OPTIMIZE", "FLUSH", "KILL", "PREPARE", "EXECUTE",
              "NOTIFY", "CHECKSUM", "REPAIR", "INSTALL", "UNINSTALL"}
_SQL_SIDE_EFFECT_FUNCS = re.compile(
    r"\b(pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_drop_replication_slot|pg_create_\w+|"
    r"pg_switch_wal|pg_promote|pg_rotate_logfile|setval|nextval|lo_unlink|lo_import|lo_export|set_config|"
    r"dblink_exec|pg_stat_reset\w*|pg_wal_replay_pause|pg_wal_replay_resume|pg_advisory_lock\w*|sleep|"
    r"pg_sleep|benchmark|load_file)\s*\(", re.IGNORECASE)


def _strip_sql(text: str) -> str:
    """Remove comments and blank out string literals and quoted identifiers."""
    text = re.sub(r"--[^\n]*", " ", text)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    text = re.sub(r"\$([A-Za-z_]\w*)?\$.*?\$\1\$", "''", text, flags=re.DOTALL)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)
    text = re.sub(r'"(?:[^"]|"")*"', '""', text)
    text = re.sub(r"`[^`]*`", "``", text)
    return text


def _split_meta(line: str) -> tuple[str, str | None]:
    """`select 1 \\gexec` → ("select 1 ", "\\gexec"): psql reads a backslash outside quotes as a meta-command."""
    quote: str | None = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "\\" and i + 1 < len(line) and (line[i + 1].isalpha() or line[i + 1] in "!?"):
            return line[:i], line[i:]
    return line, None


_DBLINK = re.compile(r"\bdblink(?:_exec|_send_query|_open)?\s*\(\s*(?:'(?:[^']|'')*'\s*,\s*)?'((?:[^']|'')*)'",
                     re.IGNORECASE)
_PROGRAM = re.compile(r"\bPROGRAM\s+'((?:[^']|'')*)'", re.IGNORECASE)
_MYSQL_SHELL = re.compile(r"^\s*(?:system|\\!)\s+(.*)$", re.IGNORECASE | re.MULTILINE)


def shell_commands(text: str) -> list[str]:
    """Shell commands a SQL client or server runs from a script: psql `\\! cmd`, `\\g |cmd`, `\\o |cmd`,
    mysql `system cmd`, `COPY … TO/FROM PROGRAM 'cmd'`."""
    found = [m.group(1).replace("''", "'") for m in _PROGRAM.finditer(text)]
    found += [m.group(1) for m in _MYSQL_SHELL.finditer(text)]
    for line in text.splitlines():
        meta = _split_meta(line)[1]
        while meta:
            m = re.match(r"\\(!|g|o|out|w|write|gx|copy)\b\s*(.*)$", meta) or re.match(r"\\(!)(.*)$", meta)
            if m and m.group(1) == "!":
                found.append(m.group(2))
            elif m and m.group(2).startswith("|"):
                found.append(m.group(2)[1:])
            elif m and m.group(1) == "copy" and re.search(r"\bprogram\b", m.group(2), re.IGNORECASE):
                found.append(re.split(r"(?i)\bprogram\b", m.group(2), maxsplit=1)[1].strip().strip("'\""))
            nxt = _split_meta(meta[1:])[1]
            meta = nxt
    return [f.strip() for f in found if f.strip()]


def classify_sql(text: str) -> tuple[str, str]:
    """(class, reason) for a SQL script (psql meta-commands included)."""
    results: list[tuple[str, str]] = []
    body_lines = []
    for line in text.splitlines():
        sql, meta = _split_meta(line)
        body_lines.append(sql)
        while meta:
            results.append(_psql_meta(meta))
            meta = _split_meta(meta[1:])[1]
    for m in _DBLINK.finditer(text):
        cls, why = classify_sql(m.group(1).replace("''", "'"))
        results.append((cls if cls != READ_ONLY else READ_ONLY, f"dblink runs SQL on another connection: {why}"))
    if re.search(r"\bdblink\w*\s*\(", text, re.IGNORECASE) and not _DBLINK.search(text):
        results.append((UNKNOWN, "dblink runs SQL the guard cannot read on another connection"))
    if _PROGRAM.search(text) or re.search(r"\bPROGRAM\b", _strip_sql(text), re.IGNORECASE):
        results.append((UNKNOWN, "COPY … PROGRAM runs a shell command on the database server"))
    if _MYSQL_SHELL.search(text):
        results.append((UNKNOWN, "the mysql client's system command runs a shell command"))
    for stmt in _strip_sql("\n".join(body_lines)).split(";"):
        words = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", stmt)
        if not words:
            continue
        results.append(_sql_statement([w.upper() for w in words], stmt, words))
    if not results:
        return READ_ONLY, "no SQL statement"
    cls = highest(c for c, _ in results)
    reasons = [r for c, r in results if c == cls]
    return cls, "; ".join(dict.fromkeys(reasons))


def _sql_statement(words: list[str], stmt: str, original: list[str] | None = None) -> tuple[str, str]:
    first = words[0]
    shown = original if original is not None and len(original) == len(words) else words
    if first == "EXPLAIN":
        rest = words[1:]
        if rest[:1] == ["ANALYZE"] or rest[:1] == ["ANALYSE"] or "ANALYZE" in rest[:4]:
            inner = [w for w in rest if w not in ("ANALYZE", "ANALYSE", "VERBOSE", "BUFFERS", "FORMAT", "JSON",
                                                  "TRUE", "FALSE", "COSTS", "TIMING", "SUMMARY", "SETTINGS",
                                                  "WAL", "ON", "OFF", "TEXT", "YAML", "XML")]
            if inner:
                cls, why = _sql_statement(inner, stmt)
                return cls, f"EXPLAIN ANALYZE executes the statement: {why}"
        return READ_ONLY, "EXPLAIN: shows a plan"
    if first == "WITH":
        dml = [w for w in words if w in ("INSERT", "UPDATE", "DELETE", "MERGE")]
        if dml:
            return _sql_statement(dml + words[words.index(dml[0]) + 1:], stmt)
        first = "SELECT"
    if first in _SQL_DESTROY:
        return DESTRUCTIVE, f"SQL {first} {' '.join(shown[1:3])}".rstrip() + " removes or rewrites data or schema"
    if first == "UPDATE" and "WHERE" not in words:
        return DESTRUCTIVE, "SQL UPDATE without WHERE rewrites every row"
    if first in _SQL_WRITE:
        return MUTATING, f"SQL {first} writes data, schema or permissions"
    if first in ("SELECT", "VALUES", "TABLE"):
        if _SQL_SIDE_EFFECT_FUNCS.search(stmt):
            return MUTATING, "SQL SELECT calls a function with side effects (" + \
                _SQL_SIDE_EFFECT_FUNCS.search(stmt).group(1) + ")"  # type: ignore[union-attr]
        if "INTO" in words:
            return MUTATING, "SQL SELECT … INTO creates a table or writes a file"
        return READ_ONLY, "SQL SELECT reads"
    if first in _SQL_READ:
        return READ_ONLY, f"SQL {first}: reads or sets session state"
    return UNKNOWN, f"SQL {first}: a statement the guard does not know"


def _psql_meta(line: str) -> tuple[str, str]:
    m = re.match(r"\\(!|[A-Za-z?]+)", line)
    cmd = "\\" + m.group(1) if m else line.split()[0]
    arg = line[len(cmd):].strip()
    if arg.startswith("|"):
        return UNKNOWN, f"psql {cmd} |… pipes output into a shell command"
    if cmd in ("\\g", "\\gx") and arg:
        return MUTATING, f"psql {cmd} FILE writes query output to a file"
    if cmd in ("\\setenv",):
        return UNKNOWN, "psql \\setenv changes the environment of later shell commands"
    if cmd in ("\\copy",):
        return MUTATING, "psql \\copy reads or writes data and local files"
    if cmd in ("\\i", "\\ir", "\\include", "\\include_relative"):
        return UNKNOWN, f"psql {cmd} runs a SQL file the guard does not read"
    if cmd.startswith("\\!") or cmd in ("\\gexec",):
        return UNKNOWN, f"psql {cmd} runs shell commands or generated SQL"
    if cmd in ("\\o", "\\out", "\\w", "\\write", "\\lo_import", "\\lo_export", "\\lo_unlink", "\\s"):
        return MUTATING, f"psql {cmd} writes a file or a large object"
    if cmd in ("\\e", "\\edit", "\\ef", "\\ev"):
        return UNKNOWN, f"psql {cmd} opens an editor"
    return READ_ONLY, f"psql {cmd}: a meta-command that reads"


def _sql_parts(tool: str, sources: list[str], stdin_text: str | None, file_arg: bool, interactive: bool,
               ctx: Ctx) -> list[Part]:
    if file_arg:
        return [Part(UNKNOWN, f"{tool} runs SQL from a file the guard does not read")]
    texts = list(sources)
    if not texts and stdin_text is not None:
        texts = [stdin_text]
    if not texts:
        if ctx.stdin.network:
            return [Part(DESTRUCTIVE, f"{tool} runs SQL downloaded from the network")]
        if ctx.stdin.opaque:
            return [Part(UNKNOWN, f"{tool} runs SQL read from standard input, which the guard cannot see")]
        if interactive:
            return [Part(UNKNOWN, f"{tool} opens an interactive session: anything typed runs", interactive=True)]
        return [Part(UNKNOWN, f"{tool}: no statement on the command line")]
    joined = "\n".join(texts)
    cls, why = classify_sql(joined)
    parts = [Part(cls, f"{tool}: {why}")]
    for command in shell_commands(joined):
        parts += [Part(p.cls, f"{tool} runs the shell command {command!r}: {p.reason}", p.exposes, p.target)
                  for p in ctx.line(command) if p.cls != READ_ONLY or p.exposes]
    return parts


def _psql(words: list[Word], ctx: Ctx) -> list[Part]:
    value = {"-c", "--command", "-d", "--dbname", "-f", "--file", "-h", "--host", "-p", "--port", "-U", "--username",
             "-v", "--set", "--variable", "-o", "--output", "-L", "--log-file", "-P", "--pset", "-F",
             "--field-separator", "-R", "--record-separator", "-T", "--table-attr"}
    p = parse_args(words[1:], value)
    parts: list[Part] = []
    for out in p.values("-o", "--output", "-L", "--log-file"):
        parts.append(Part(MUTATING, f"psql writes query output to the local file {out}", target=out))
    if p.has("-l", "--list", "-V", "--version", "-?", "--help"):
        return parts + [Part(READ_ONLY, "psql: lists databases or prints its version")]
    files = p.values("-f", "--file")
    sources = p.values("-c", "--command")
    stdin_file = files == ["-"]
    parts += _sql_parts("psql", sources, ctx.stdin.text if (not files or stdin_file) else None,
                        bool(files) and not stdin_file, True, ctx)
    return parts


def _mysql(words: list[Word], ctx: Ctx) -> list[Part]:
    # the MySQL client accepts any unambiguous prefix of a long option (`--init-c` is --init-command)
    args = [w.text for w in words[1:]]
    parts: list[Part] = []
    loads = [a for a in args for full in ("--pager", "--plugin-dir", "--default-auth", "--defaults-file",
                                          "--defaults-extra-file", "--defaults-group-suffix", "--load-data-local-dir",
                                          "--local-infile", "--ssl-fips-mode", "--plugin-authentication-kerberos")
             if long_option(a, full, len(full) - 2 if full == "--pager" else 6)]
    if loads:
        parts.append(Part(UNKNOWN, f"{prog(words[0])} {loads[0]}: runs a program, loads a plugin or reads options "
                                   "from a file the guard does not read"))
    if any(long_option(a, "--tee", 3) for a in args):
        parts.append(Part(MUTATING, "mysql --tee writes a local file"))
    if any(a in ("-V", "-?") or long_option(a, "--version", 4) or long_option(a, "--help", 4) for a in args):
        return [Part(READ_ONLY, f"{prog(words[0])}: prints its version")]
    init = long_value(args, "--init-command", None, 4)
    execute = long_value(args, "--execute", "-e", 3)
    sources = init + execute
    stdin = ctx.stdin.text if not execute else None
    if init and not execute and stdin is None:  # the init command runs, then the session reads what is typed
        parts += _sql_parts(prog(words[0]), [], None, False, True, ctx)
    return parts + _sql_parts(prog(words[0]), sources, stdin, False, not execute, ctx)


def _sqlite(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], {"-cmd", "-separator", "-newline", "-nullvalue", "-init", "-vfs", "-maxsize",
                               "-mmap", "-pagecache", "-lookaside", "-heap"}, short_clusters=False)
    init = [Part(UNKNOWN, "sqlite3 -init runs the commands in a file the guard does not read")] \
        if p.has("-init", "--init") else []
    return init + _sqlite_script(p, ctx)


def _sqlite_script(p: Parsed, ctx: Ctx) -> list[Part]:
    pos = [w.text for w in p.positionals]
    script = p.values("-cmd") + (pos[1:] or ([ctx.stdin.text] if ctx.stdin.text is not None else []))
    if not script:
        return _sql_parts("sqlite3", [], None, False, True, ctx)
    text = "\n".join(script)
    dots = [line.strip() for line in text.splitlines() if line.strip().startswith(".")]
    sql = "\n".join(line for line in text.splitlines() if not line.strip().startswith("."))
    parts = [x for part in (_sqlite_dot(d, ctx) for d in dots) for x in part]
    if m := re.search(r"\b(writefile|edit|load_extension|fts3_tokenizer)\s*\(", sql, re.IGNORECASE):
        fn = m.group(1)
        parts.append(Part(MUTATING if fn.lower() == "writefile" else UNKNOWN,
                          f"sqlite3 {fn}() {'writes a local file' if fn.lower() == 'writefile' else 'runs code'}"))
    if sql.strip():
        parts += _sql_parts("sqlite3", [sql], None, False, True, ctx)
    return parts or [Part(READ_ONLY, "sqlite3: dot-commands that read")]


_SQLITE_DOT_READ = {"tables", "schema", "indexes", "indices", "databases", "dbinfo", "dump", "fullschema", "headers",
                    "mode", "show", "help", "stats", "timer", "width", "nullvalue", "separator", "echo", "bail",
                    "changes", "eqp", "explain", "print", "quit", "exit", "lint", "selftest", "sha3sum", "recover",
                    "dbconfig", "limit", "parameter", "scanstats", "trace", "vfsinfo", "vfslist", "vfsname",
                    "version", "prompt", "crnl", "binary", "timeout", "iotrace", "testcase", "check", "filectrl"}


def _sqlite_dot(line: str, ctx: Ctx) -> list[Part]:
    name, _, arg = line[1:].partition(" ")
    arg = arg.strip()
    if name in ("system", "shell"):
        return [Part(UNKNOWN, f"sqlite3 .{name} runs a shell command")] + [
            Part(p.cls, f"sqlite3 .{name}: {p.reason}", p.exposes, p.target) for p in ctx.line(arg)
            if p.cls != READ_ONLY or p.exposes]
    if arg.startswith("|") or arg.startswith("'|") or arg.startswith('"|'):
        return [Part(UNKNOWN, f"sqlite3 .{name} |… pipes into a shell command")] + [
            Part(p.cls, f"sqlite3 .{name}: {p.reason}", p.exposes, p.target)
            for p in ctx.line(arg.strip("'\"")[1:]) if p.cls != READ_ONLY or p.exposes]
    if name in ("output", "once", "log", "save", "backup", "clone", "import", "excel"):
        if name in ("output", "once", "log") and arg in ("", "stdout", "off", "stderr"):
            return [Part(READ_ONLY, f"sqlite3 .{name}: back to standard output")]
        return [Part(MUTATING, f"sqlite3 .{name} writes {arg or 'a file'}", target=arg or None)]
    if name == "restore" or (name == "open" and re.search(r"--new\b", arg)):
        return [Part(DESTRUCTIVE, f"sqlite3 .{name} replaces the database's content")]
    if name in ("load", "read", "edit", "cd", "open", "archive", "ar", "expert", "nonce", "connection"):
        return [Part(UNKNOWN, f"sqlite3 .{name}: loads code, runs a file or opens another database")]
    if name in _SQLITE_DOT_READ:
        return [Part(READ_ONLY, f"sqlite3 .{name}: reads")]
    return [Part(UNKNOWN, f"sqlite3 .{name}: a dot-command the guard does not know")]


# -- MongoDB ---------------------------------------------------------------------------------------------

_MONGO_DESTROY = {"dropDatabase", "drop", "deleteMany", "deleteOne", "remove", "findOneAndDelete", "dropIndex",
                  "dropIndexes", "dropUser", "dropAllUsers", "dropRole", "dropAllRoles", "shutdownServer",
                  "removeShard", "dropSearchIndex"}
_MONGO_WRITE = {"insert", "insertOne", "insertMany", "update", "updateOne", "updateMany", "replaceOne",
                "findOneAndUpdate", "findOneAndReplace", "findAndModify", "save", "createCollection", "createView",
                "createIndex", "createIndexes", "ensureIndex", "createUser", "updateUser", "grantRolesToUser",
                "revokeRolesFromUser", "changeUserPassword", "createRole", "updateRole", "grantPrivilegesToRole",
                "renameCollection", "reconfig", "add", "addArb", "stepDown", "freeze", "initiate", "setProfilingLevel",
                "fsyncLock", "fsyncUnlock", "killOp", "compact", "convertToCapped", "bulkWrite", "setFeatureCompatibilityVersion",
                "enableSharding", "shardCollection", "addShard", "setLogLevel", "setParameter", "createSearchIndex",
                "copyDatabase", "cloneCollection", "rotateCertificates", "logRotate", "hideIndex", "unhideIndex",
                "collMod", "syncFrom", "reIndex", "validate"}
_MONGO_READ = {
    "find", "findOne", "countDocuments", "count", "estimatedDocumentCount", "distinct", "aggregate",
    "getCollectionNames", "getCollectionInfos", "listCollections", "stats", "dataSize", "storageSize",
    "totalIndexSize", "totalSize", "getIndexes", "getIndexKeys", "getIndexSpecs", "serverStatus", "hello", "isMaster",
    "ping", "status", "conf", "config", "printReplicationInfo", "printSecondaryReplicationInfo", "printSlaveReplicationInfo",
    "version", "getName", "getSiblingDB", "getMongo", "getCollection", "printjson", "print", "stringify", "parse",
    "toArray", "forEach", "limit", "sort", "skip", "pretty", "currentOp", "getUsers", "getUser", "getRoles", "getRole",
    "getProfilingStatus", "getProfilingLevel", "getReplicationInfo", "hostInfo", "buildInfo", "serverBuildInfo",
    "getLog", "explain", "map", "filter", "reduce", "itcount", "size", "length", "next", "hasNext", "log", "keys",
    "values", "entries", "join", "split", "toString", "toFixed", "getTime", "toISOString", "slice", "includes",
    "startsWith", "endsWith", "trim", "toLowerCase", "toUpperCase", "replace", "substring", "indexOf", "concat",
    "hint", "projection", "batchSize", "maxTimeMS", "comment", "readPref", "collation", "allowDiskUse",
    "noCursorTimeout", "getDB", "getDBs", "getDBNames", "adminCommand", "runCommand", "listDatabases",
    "serverCmdLineOpts", "getShardDistribution", "printShardingStatus", "isBalancerRunning", "getBalancerState",
    "latencyStats", "watch", "Date", "ObjectId", "ISODate", "NumberLong", "NumberInt", "floor", "round", "max", "min",
    "getParameter", "printCollectionStats", "getSecondaryOk", "getReadPref", "getWriteConcern", "isCapped",
    "getShardVersion", "toJSON", "valueOf", "push", "sum", "abs", "pop", "shift", "fromEntries", "assign",
}
_MONGO_READ_COMMANDS = {"ping", "serverStatus", "listDatabases", "dbStats", "collStats", "replSetGetStatus", "buildInfo",
                        "hello", "isMaster", "ismaster", "getLog", "hostInfo", "connectionStatus", "listCollections",
                        "getParameter", "currentOp", "top", "whatsmyuri", "replSetGetConfig", "usersInfo",
                        "rolesInfo", "listIndexes", "count", "find", "aggregate", "distinct", "getCmdLineOpts",
                        "dataSize", "explain", "listCommands", "features", "lockInfo",
                        "getDefaultRWConcern", "getClusterParameter", "validateDBMetadata"}
_MONGO_DESTROY_COMMANDS = {"drop", "dropDatabase", "delete", "dropIndexes", "dropUser", "dropAllUsersFromDatabase",
                           "dropRole", "dropAllRolesFromDatabase", "shutdown", "removeShard"}


def classify_mongo(text: str) -> tuple[str, str]:
    """(class, reason) for mongosh JavaScript (and shell helpers such as `show dbs`, `use x`)."""
    body = re.sub(r"//[^\n]*|/\*.*?\*/", " ", text, flags=re.DOTALL)
    body = re.sub(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|`(?:\\.|[^`\\])*`", "''", body)
    found: list[tuple[str, str]] = []
    for line in body.splitlines():
        s = line.strip().rstrip(";")
        if re.fullmatch(r"(show\s+\w+|use\s+[\w-]+|it|exit|quit\(\)|quit|exit\(\))", s):
            found.append((READ_ONLY, "shell helper"))
    # runCommand/adminCommand documents: the first key names the command
    raw = re.sub(r"//[^\n]*|/\*.*?\*/", " ", text, flags=re.DOTALL)
    for m in re.finditer(r"\b(runCommand|adminCommand)\s*\(\s*\{\s*['\"]?(\w+)['\"]?\s*:", raw):
        key = m.group(2)
        if key in _MONGO_DESTROY_COMMANDS:
            found.append((DESTRUCTIVE, f"{m.group(1)}({{{key}: …}}) removes data"))
        elif key in _MONGO_READ_COMMANDS:
            found.append((READ_ONLY, f"{m.group(1)}({{{key}: …}}) reads"))
        else:
            found.append((UNKNOWN, f"{m.group(1)}({{{key}: …}}): a command the guard does not know"))
    for m in re.finditer(r"(?<![\w$])(?:\.|\b)([A-Za-z_$][\w$]*)\s*\(", body):
        name = m.group(1)
        if name in _MONGO_DESTROY:
            found.append((DESTRUCTIVE, f"mongo {name}() deletes data"))
        elif name in _MONGO_WRITE:
            if name == "bulkWrite" and re.search(r"delete(One|Many)", raw):
                found.append((DESTRUCTIVE, "mongo bulkWrite() deletes documents"))
            else:
                found.append((MUTATING, f"mongo {name}() writes"))
        elif name == "aggregate" and re.search(r"\$(out|merge)\b", raw):
            found.append((MUTATING, "mongo aggregate() with $out/$merge writes a collection"))
        elif name in _MONGO_READ:
            found.append((READ_ONLY, f"mongo {name}() reads"))
        elif name in ("function",):
            continue
        else:
            found.append((UNKNOWN, f"mongo {name}(): a call the guard does not know"))
    if not found:
        if body.strip():
            return UNKNOWN, "mongo script the guard cannot read"
        return READ_ONLY, "empty script"
    cls = highest(c for c, _ in found)
    return cls, "; ".join(dict.fromkeys(r for c, r in found if c == cls))


def _mongosh(words: list[Word], ctx: Ctx) -> list[Part]:
    tool = prog(words[0])
    value = {"--eval", "--file", "-f", "--host", "--port", "-u", "--username", "-p", "--password",
             "--authenticationDatabase", "--authenticationMechanism", "--tlsCAFile", "--tlsCertificateKeyFile",
             "--apiVersion", "--sslCAFile", "--sslPEMKeyFile", "--awsAccessKeyId", "--awsSecretAccessKey",
             "--awsSessionToken", "--gssapiServiceName", "--sspiHostnameCanonicalization", "--csfleLibraryPath",
             "--cryptSharedLibPath", "--keyVaultNamespace", "--kmsURL", "--retryWrites"}
    p = parse_args(words[1:], value, short_clusters=False)
    if p.has("--version", "--help", "-h", "--build-info"):
        return [Part(READ_ONLY, f"{tool}: prints its version")]
    scripts = [w.text for w in p.positionals if w.text.endswith(".js")]
    if p.has("--file", "-f") or scripts:
        return [Part(UNKNOWN, f"{tool} runs a JavaScript file the guard does not read")]
    evals = p.values("--eval")
    if not evals and ctx.stdin.text is not None:
        evals = [ctx.stdin.text]
    if not evals:
        if ctx.stdin.network:
            return [Part(DESTRUCTIVE, f"{tool} runs code downloaded from the network")]
        if ctx.stdin.opaque:
            return [Part(UNKNOWN, f"{tool} runs code read from standard input, which the guard cannot see")]
        return [Part(UNKNOWN, f"{tool} opens an interactive shell: anything typed runs", interactive=True)]
    cls, why = classify_mongo("\n".join(evals))
    return [Part(cls, f"{tool}: {why}")]


# -- Redis -----------------------------------------------------------------------------------------------

_REDIS_DESTROY = {"FLUSHALL", "FLUSHDB", "DEL", "UNLINK", "SHUTDOWN", "GETDEL", "SWAPDB", "REPLICAOF", "SLAVEOF",
                  "MIGRATE", "DEBUG"}
_REDIS_READ = {"GET", "MGET", "EXISTS", "TYPE", "TTL", "PTTL", "KEYS", "SCAN", "SSCAN", "HSCAN", "ZSCAN", "STRLEN",
               "GETRANGE", "HGET", "HGETALL", "HKEYS", "HVALS", "HLEN", "HMGET", "HEXISTS", "HSTRLEN", "LRANGE", "LLEN",
               "LINDEX", "LPOS", "SMEMBERS", "SCARD", "SISMEMBER", "SMISMEMBER", "SRANDMEMBER", "SINTER", "SUNION",
               "SDIFF", "ZRANGE", "ZRANGEBYSCORE", "ZREVRANGE", "ZCARD", "ZSCORE", "ZRANK", "ZREVRANK", "ZCOUNT",
               "XLEN", "XRANGE", "XREVRANGE", "XINFO", "XPENDING", "XREAD", "INFO", "PING", "ECHO", "DBSIZE", "TIME",
               "LASTSAVE", "ROLE", "MONITOR", "SLOWLOG", "CLIENT", "CONFIG", "MEMORY", "LATENCY", "CLUSTER", "COMMAND",
               "OBJECT", "RANDOMKEY", "DUMP", "PUBSUB", "SUBSCRIBE", "PSUBSCRIBE", "ACL", "MODULE", "FUNCTION",
               "SCRIPT", "HELLO", "SELECT", "AUTH", "QUIT", "READONLY", "MULTI", "EXEC", "DISCARD", "WATCH",
               "UNWATCH", "BITCOUNT", "GETBIT", "BITPOS", "PFCOUNT", "GEODIST", "GEOPOS", "GEOHASH", "GEOSEARCH",
               "SORT_RO", "TOUCH", "WAIT", "LOLWUT", "SINTERCARD", "ZMSCORE", "ZRANDMEMBER", "HRANDFIELD"}
_REDIS_READ_SUB = {"CLIENT": {"LIST", "INFO", "GETNAME", "ID", "TRACKINGINFO"}, "CONFIG": {"GET"},
                   "SLOWLOG": {"GET", "LEN", "HELP"}, "MEMORY": {"USAGE", "STATS", "DOCTOR", "MALLOC-STATS", "HELP"},
                   "LATENCY": {"LATEST", "HISTORY", "DOCTOR", "GRAPH", "HISTOGRAM", "HELP"},
                   "CLUSTER": {"INFO", "NODES", "SLOTS", "SHARDS", "MYID", "KEYSLOT", "COUNTKEYSINSLOT", "GETKEYSINSLOT",
                               "LINKS", "HELP"},
                   "ACL": {"WHOAMI", "LIST", "USERS", "CAT", "GETUSER", "LOG", "HELP", "DRYRUN"},
                   "MODULE": {"LIST", "HELP"}, "FUNCTION": {"LIST", "DUMP", "STATS", "HELP"},
                   "SCRIPT": {"EXISTS", "HELP"}, "OBJECT": {"ENCODING", "FREQ", "IDLETIME", "REFCOUNT", "HELP"},
                   "COMMAND": {"COUNT", "INFO", "DOCS", "LIST", "GETKEYS", "HELP", ""}, "PUBSUB": None, "XINFO": None}
_REDIS_DESTROY_SUB = {"SCRIPT": {"FLUSH"}, "FUNCTION": {"FLUSH", "DELETE"}, "CLUSTER": {"RESET", "FORGET", "DELSLOTS",
                      "FLUSHSLOTS"}, "ACL": {"DELUSER"}, "CONFIG": set(), "CLIENT": set()}


def classify_redis(argv: list[str]) -> tuple[str, str]:
    if not argv:
        return READ_ONLY, "no command"
    cmd = argv[0].upper()
    sub = argv[1].upper() if len(argv) > 1 else ""
    if cmd in _REDIS_DESTROY_SUB and sub in _REDIS_DESTROY_SUB[cmd]:
        return DESTRUCTIVE, f"redis {cmd} {sub} deletes data"
    if cmd in _REDIS_DESTROY:
        return DESTRUCTIVE, f"redis {cmd} deletes data or the server's dataset"
    if cmd in ("EVAL", "EVALSHA", "EVAL_RO", "FCALL", "FCALL_RO"):
        return UNKNOWN, f"redis {cmd} runs a Lua script"
    if cmd == "SORT":
        return (MUTATING, "redis SORT … STORE writes a key") if "STORE" in (a.upper() for a in argv) else \
            (READ_ONLY, "redis SORT reads")
    if cmd in _REDIS_READ:
        allowed = _REDIS_READ_SUB.get(cmd, None)
        if cmd in _REDIS_READ_SUB and allowed is not None and sub not in allowed:
            return MUTATING, f"redis {cmd} {sub} changes server state"
        return READ_ONLY, f"redis {cmd} reads"
    if re.fullmatch(r"(SET\w*|MSET\w*|APPEND|INCR\w*|DECR\w*|H(SET|SETNX|MSET|DEL|INCRBY\w*)|[LR]PUSH\w*|LSET|LREM|LTRIM|"
                    r"LINSERT|LMOVE|[LR]POP\w*|BLPOP|BRPOP|SADD|SREM|SPOP|SMOVE|Z(ADD|REM\w*|INCRBY|POP\w*)|XADD|XDEL|"
                    r"XTRIM|XGROUP|XACK|XCLAIM|EXPIRE\w*|PEXPIRE\w*|PERSIST|RENAME\w*|COPY|MOVE|RESTORE|SAVE|BGSAVE|"
                    r"BGREWRITEAOF|PUBLISH|FAILOVER|PF(ADD|MERGE)|GEOADD|SETBIT|BITOP|BITFIELD|GETSET|GETEX|"
                    r"SINTERSTORE|SUNIONSTORE|SDIFFSTORE|ZUNIONSTORE|ZINTERSTORE|ZRANGESTORE)", cmd):
        return MUTATING, f"redis {cmd} writes"
    return UNKNOWN, f"redis {cmd}: a command the guard does not know"


def _redis(words: list[Word], ctx: Ctx) -> list[Part]:
    value = {"-h", "-p", "-s", "-a", "-u", "-n", "-r", "-i", "-d", "-D", "--user", "--pass", "--cacert", "--cacertdir",
             "--cert", "--key", "--sni", "--tls-ciphers", "--tls-ciphersuites", "--eval", "--pattern", "--count",
             "--quoted-pattern", "--memkeys-samples", "--functions-rdb", "--rdb", "-e", "--lru-test", "-t"}
    p = parse_args(words[1:], value, short_clusters=False)
    pos = [w.text for w in p.positionals]
    if p.has("--rdb", "--functions-rdb"):
        return [Part(MUTATING, "redis-cli --rdb writes a dump of the whole dataset to a local file", exposes=True)]
    if p.has("--eval"):
        return [Part(UNKNOWN, "redis-cli --eval runs a Lua script file")]
    if p.has("--pipe"):
        return [Part(UNKNOWN, "redis-cli --pipe sends raw protocol from standard input")]
    if p.has("--scan", "--bigkeys", "--memkeys", "--hotkeys", "--stat", "--latency", "--latency-history",
             "--latency-dist", "--intrinsic-latency", "--version", "-v", "--help"):
        return [Part(READ_ONLY, "redis-cli: reads statistics or scans keys")]
    if pos:
        cls, why = classify_redis(pos)
        return [Part(cls, f"redis-cli: {why}")]
    if ctx.stdin.text is not None:
        results = []
        for line in ctx.stdin.text.splitlines():
            try:
                argv = shlex.split(line)
            except ValueError:
                return [Part(UNKNOWN, "redis-cli: cannot read the commands on standard input")]
            if argv:
                results.append(classify_redis(argv))
        cls = highest(c for c, _ in results) if results else READ_ONLY
        return [Part(cls, "redis-cli: " + "; ".join(dict.fromkeys(r for c, r in results if c == cls)) or "no command")]
    if ctx.stdin.present:
        return [Part(UNKNOWN, "redis-cli runs commands read from standard input, which the guard cannot see")]
    return [Part(UNKNOWN, "redis-cli opens an interactive session: anything typed runs", interactive=True)]


# -- server and dump tools -------------------------------------------------------------------------------

def _mongorestore(words: list[Word], ctx: Ctx) -> list[Part]:
    args = [w.text for w in words[1:]]
    if any(a == "--drop" or long_option(a, "--drop", 4) for a in args):
        return [Part(DESTRUCTIVE, "mongorestore --drop drops every collection before restoring it (documents written "
                                  "since the dump are lost)")]
    return [Part(MUTATING, "mongorestore writes the dump's documents into the database")]


def _pg_ctl(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], {"-D", "--pgdata", "-m", "--mode", "-l", "--log", "-o", "--options", "-t", "--timeout",
                               "-s", "--silent", "-w", "-W", "-c", "-p", "-N", "-U", "-P", "-S", "-e"})
    action = next((w.text for w in p.positionals), "")
    if action in ("status", "--version", ""):
        return [Part(READ_ONLY, "pg_ctl status: shows the server state")]
    if action in ("stop", "restart", "kill", "unregister"):
        mode = p.value("-m", "--mode") or "fast"
        return [Part(DESTRUCTIVE, f"pg_ctl {action} (mode {mode}) takes the database server down" +
                     (": an immediate stop aborts without a checkpoint" if mode.startswith("i") else ""))]
    if action == "promote":
        return [Part(DESTRUCTIVE, "pg_ctl promote turns a standby into a primary (a second primary splits the "
                                  "cluster's writes)")]
    return [Part(MUTATING, f"pg_ctl {action} changes the database server")]


def _dump(tool: str, out_flags: tuple[str, ...], value: set[str], exposes: bool = False) -> Rule:
    """pg_dump, pg_dumpall, mysqldump, mongodump: read the database; an output option writes a local file."""
    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        p = parse_args(words[1:], value | set(out_flags))
        out = p.value(*out_flags)
        note = " (role password hashes included)" if exposes else " (credentials stored in its tables included)"
        if out and out != "-":
            return [Part(MUTATING, f"{tool} writes a dump of the database to {out}{note}", target=out)]
        return [Part(READ_ONLY, f"{tool} prints the database's content{note}", exposes=True)]
    return rule


def _pg_restore(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], {"-d", "--dbname", "-f", "--file", "-F", "--format", "-j", "--jobs", "-h", "-p", "-U",
                               "-n", "-t", "-I", "-P", "-T", "-L", "-N", "-S", "--role"})
    if p.has("-c", "--clean"):
        return [Part(DESTRUCTIVE, "pg_restore --clean drops database objects before re-creating them")]
    if p.has("-d", "--dbname"):
        return [Part(MUTATING, "pg_restore writes the archive into a database")]
    if p.value("-f", "--file") not in (None, "-"):
        return [Part(MUTATING, "pg_restore writes a SQL script to a local file")]
    return [Part(READ_ONLY, "pg_restore prints the archive as SQL")]


_MYSQLADMIN_READ = {"status", "extended-status", "variables", "processlist", "ping", "version", "debug"}
_MYSQLADMIN_DESTROY = {"drop", "shutdown", "kill"}


def _mysqladmin(words: list[Word], ctx: Ctx) -> list[Part]:
    cmds = [w.text for w in parse_args(words[1:], {"-u", "-h", "-P", "-S", "-c", "-i", "--user", "--host",
                                                   "--port", "--socket", "--count", "--sleep"},
                                       short_clusters=False).positionals]
    for c in cmds:
        if c in _MYSQLADMIN_DESTROY:
            return [Part(DESTRUCTIVE, f"mysqladmin {c} " + ("drops a database" if c == "drop" else
                                                            "stops the server" if c == "shutdown" else
                                                            "kills client threads"))]
    if all(c in _MYSQLADMIN_READ for c in cmds):
        return [Part(READ_ONLY, "mysqladmin: reads server status")]
    return [Part(MUTATING, f"mysqladmin {' '.join(cmds)} changes the server")]


RULES: dict[str, Rule] = {
    "mongorestore": _mongorestore, "pg_ctl": _pg_ctl, "pg_restore": _pg_restore, "mysqladmin": _mysqladmin,
    "pg_dump": _dump("pg_dump", ("-f", "--file"), {"-d", "--dbname", "-h", "-p", "-U", "-n", "-t", "-T", "-N", "-F",
                                                    "--format", "-j", "-Z", "-E", "-S", "--role"}),
    "pg_dumpall": _dump("pg_dumpall", ("-f", "--file"), {"-d", "--dbname", "-h", "-p", "-U", "-l", "-S", "--role",
                                                          "-E"}, exposes=True),
    "mysqldump": _dump("mysqldump", ("-r", "--result-file"), {"-u", "-h", "-P", "-S", "--user", "--host", "--port",
                                                               "--socket", "-w", "--where"}),
    "mongodump": _dump("mongodump", ("-o", "--out"), {"-h", "--host", "--port", "-u", "--username", "-d", "--db",
                                                       "-c", "--collection", "-q", "--query", "--uri",
                                                       "--authenticationDatabase"}),
    "dropdb": lambda w, c: [Part(DESTRUCTIVE, "dropdb removes a database")],
    "dropuser": lambda w, c: [Part(DESTRUCTIVE, "dropuser removes a database role")],
    "createdb": lambda w, c: [Part(MUTATING, "createdb creates a database")],
    "createuser": lambda w, c: [Part(MUTATING, "createuser creates a database role")],
    "psql": _psql, "mysql": _mysql, "mariadb": _mysql, "mongosh": _mongosh, "mongo": _mongosh,
    "redis-cli": _redis, "valkey-cli": _redis, "sqlite3": _sqlite,
}
