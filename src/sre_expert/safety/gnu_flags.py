"""Every option of the GNU text and file tools the guard labels read-only (from `PROG --help` of GNU coreutils
9.1, grep, diffutils, file and binutils), so an option the guard does not model is labelled unknown.

Per program: the options (long and short) and those that take a value (to tell the value from the next
option). GNU long options may be abbreviated to any unambiguous prefix; unix_rules resolves them here.
"""

from __future__ import annotations

# program: (options, options that take a value)
_TABLE: dict[str, tuple[str, str]] = {
    "b2sum": (
        '--binary --check --help --ignore-missing --length --quiet --status --strict --tag --text --version '
        '--warn --zero -b -c -l -t -w -z',
        '--length -l'),
    "base64": (
        '--decode --help --ignore-garbage --version --wrap -d -i -w',
        '--wrap -w'),
    "basename": (
        '--help --multiple --suffix --version --zero -a -s -z',
        '--suffix -s'),
    "cat": (
        '--help --number --number-nonblank --show-all --show-ends --show-nonprinting --show-tabs '
        '--squeeze-blank --version -A -E -T -b -e -n -s -t -u -v',
        ''),
    "cksum": (
        '--algorithm --check --debug --help --ignore-missing --length --quiet --status --strict --tag '
        '--untagged --version --warn --zero -a -c -l -w -z',
        '--algorithm --length -a -l'),
    "cmp": (
        '--bytes --help --ignore-initial --print-bytes --quiet --silent --verbose --version -b -i -l -n -s -v',
        '--bytes --ignore-initial -i -n'),
    "comm": (
        '--check-order --help --nocheck-order --output-delimiter --total --version --zero-terminated -1 -2 -3 '
        '-z',
        '--output-delimiter'),
    "cut": (
        '--bytes --characters --complement --delimiter --fields --help --only-delimited --output-delimiter '
        '--version --zero-terminated -M -b -c -d -f -n -s -z',
        '--bytes --characters --delimiter --fields --output-delimiter -b -c -d -f'),
    "df": (
        '--all --block-size --exclude-type --help --human-readable --inodes --local --no-sync --output '
        '--portability --print-type --si --sync --total --type --version -B -H -P -T -a -h -i -k -l -t -v -x',
        '--block-size --exclude-type --type -B -t -x'),
    "diff": (
        '--brief --color --ed --exclude --exclude-from --expand-tabs --from-file --help --horizon-lines '
        '--ifdef --ignore-all-space --ignore-blank-lines --ignore-case --ignore-file-name-case '
        '--ignore-matching-lines --ignore-space-change --ignore-tab-expansion --ignore-trailing-space '
        '--initial-tab --label --left-column --line-format --minimal --new-file --no-dereference '
        '--no-ignore-file-name-case --normal --paginate --palette --rcs --recursive --report-identical-files '
        '--show-c-function --show-function-line --side-by-side --speed-large-files --starting-file '
        '--strip-trailing-cr --suppress-blank-empty --suppress-common-lines --tabsize --text --to-file '
        '--unidirectional-new-file --version --width -B -C -D -E -F -I -N -S -T -U -W -X -Z -a -b -c -d -e -i '
        '-l -n -p -q -r -s -t -u -v -w -x -y',
        '--exclude --exclude-from --from-file --horizon-lines --ifdef --ignore-matching-lines --label '
        '--line-format --palette --show-function-line --starting-file --tabsize --to-file --width -C -D -F -I '
        '-S -U -W -X -x'),
    "dirname": (
        '--help --version --zero -z',
        ''),
    "du": (
        '--all --apparent-size --block-size --bytes --count-links --dereference --dereference-args --exclude '
        '--exclude-from --files0-from --help --human-readable --inodes --max-depth --no-dereference --null '
        '--one-file-system --separate-dirs --si --summarize --threshold --time --time-style --total --version '
        '-0 -B -D -H -L -P -S -X -a -b -c -d -h -k -l -m -s -t -x',
        '--block-size --exclude --exclude-from --files0-from --max-depth --threshold --time --time-style -B '
        '-X -d -t'),
    "file": (
        '--apple --brief --checking-printout --compile --debug --dereference --exclude --exclude-quiet '
        '--extension --files-from --help --keep-going --list --magic-file --mime --mime-encoding --mime-type '
        '--no-buffer --no-dereference --no-pad --no-sandbox --parameter --preserve-date --print0 --raw '
        '--separator --special-files --uncompress --uncompress-noreport --version -0 -C -F -L -N -P -S -Z -b '
        '-c -d -e -f -h -i -k -l -m -n -p -r -s -v -z',
        '--exclude --exclude-quiet --files-from --magic-file --separator -F -P -e -f -m'),
    "fmt": (
        '--crown-margin --goal --help --prefix --split-only --tagged-paragraph --uniform-spacing --version '
        '--width -c -g -p -s -t -u -w',
        '--goal --prefix --width -g -p -w'),
    "fold": (
        '--bytes --help --spaces --version --width -b -s -w',
        '--width -w'),
    "grep": (
        '--after-context --basic-regexp --before-context --binary --binary-files --byte-offset --color '
        '--colour --context --count --dereference-recursive --devices --directories --exclude --exclude-dir '
        '--exclude-from --extended-regexp --file --files-with-matches --files-without-match --fixed-strings '
        '--group-separator --help --ignore-case --include --initial-tab --invert-match --label '
        '--line-buffered --line-number --line-regexp --max-count --no-filename --no-group-separator '
        '--no-ignore-case --no-messages --null --null-data --only-matching --perl-regexp --quiet --recursive '
        '--regexp --silent --text --version --with-filename --word-regexp -A -B -C -D -E -F -G -H -I -L -N -P '
        '-R -T -U -V -Z -a -b -c -d -e -f -h -i -l -m -n -o -q -r -s -v -w -x -z',
        '--after-context --before-context --binary-files --context --devices --directories --exclude '
        '--exclude-dir --exclude-from --file --group-separator --include --label --max-count --regexp -A -B '
        '-C -D -d -e -f -m'),
    "head": (
        '--bytes --help --lines --quiet --silent --verbose --version --zero-terminated -c -n -q -v -z',
        '--bytes --lines -c -n'),
    "id": (
        '--context --group --groups --help --name --real --user --version --zero -G -Z -a -g -n -r -u -z',
        ''),
    "join": (
        '--check-order --header --help --ignore-case --nocheck-order --version --zero-terminated -1 -2 -a -e '
        '-i -j -o -t -v -z',
        '-1 -2 -a -e -j -o -t -v'),
    "ls": (
        '--all --almost-all --author --block-size --classify --color --context --dereference '
        '--dereference-command-line --dereference-command-line-symlink-to-dir --directory --dired --escape '
        '--file-type --format --full-time --group-directories-first --help --hide --hide-control-chars '
        '--human-readable --hyperlink --ignore --ignore-backups --indicator-style --inode --kibibytes '
        '--literal --no-group --numeric-uid-gid --quote-name --quoting-style --recursive --reverse '
        '--show-control-chars --si --size --sort --tabsize --time --time-style --version --width --zero -1 -A '
        '-B -C -D -F -G -H -I -L -N -Q -R -S -T -U -X -Z -a -b -c -d -f -g -h -i -k -l -m -n -o -p -q -r -s '
        '-t -u -v -w -x',
        '--block-size --format --hide --ignore --indicator-style --quoting-style --sort --tabsize --time '
        '--time-style --width -I -T -w'),
    "md5sum": (
        '--binary --check --help --ignore-missing --quiet --status --strict --tag --text --version --warn '
        '--zero -b -c -t -w -z',
        ''),
    "nl": (
        '--body-numbering --footer-numbering --header-numbering --help --join-blank-lines --line-increment '
        '--no-renumber --number-format --number-separator --number-width --section-delimiter '
        '--starting-line-number --version -b -d -f -h -i -l -n -p -s -v -w',
        '--body-numbering --footer-numbering --header-numbering --join-blank-lines --line-increment '
        '--number-format --number-separator --number-width --section-delimiter --starting-line-number -b -d '
        '-f -h -i -l -n -s -v -w'),
    "nproc": (
        '--all --help --ignore --version',
        '--ignore'),
    "numfmt": (
        '--debug --delimiter --field --format --from --from-unit --grouping --header --help --invalid '
        '--padding --round --suffix --to --to-unit --version --zero-terminated -M -d -z',
        '--delimiter --field --format --from --from-unit --invalid --padding --round --suffix --to --to-unit '
        '-d'),
    "od": (
        '--address-radix --endian --format --help --output-duplicates --read-bytes --skip-bytes --traditional '
        '--version -A -N -S -a -b -c -d -f -i -j -l -o -s -t -v -w -x',
        '--address-radix --endian --format --read-bytes --skip-bytes -A -N -S -j -t'),
    "paste": (
        '--delimiters --help --serial --version --zero-terminated -d -s -z',
        '--delimiters -d'),
    "printenv": (
        '--help --null --version -0',
        ''),
    "pwd": (
        '--help --logical --physical --version -L -P',
        ''),
    "readlink": (
        '--canonicalize --canonicalize-existing --canonicalize-missing --help --no-newline --quiet --silent '
        '--verbose --version --zero -e -f -m -n -q -s -v -z',
        ''),
    "realpath": (
        '--canonicalize-existing --canonicalize-missing --help --logical --no-symlinks --physical --quiet '
        '--relative-base --relative-to --strip --version --zero -L -P -e -m -q -s -z',
        '--relative-base --relative-to'),
    "seq": (
        '--equal-width --format --help --separator --version -f -s -w',
        '--format --separator -f -s'),
    "sha1sum": (
        '--binary --check --help --ignore-missing --quiet --status --strict --tag --text --version --warn '
        '--zero -b -c -t -w -z',
        ''),
    "sha224sum": (
        '--binary --check --help --ignore-missing --quiet --status --strict --tag --text --version --warn '
        '--zero -b -c -t -w -z',
        ''),
    "sha256sum": (
        '--binary --check --help --ignore-missing --quiet --status --strict --tag --text --version --warn '
        '--zero -b -c -t -w -z',
        ''),
    "sha384sum": (
        '--binary --check --help --ignore-missing --quiet --status --strict --tag --text --version --warn '
        '--zero -b -c -t -w -z',
        ''),
    "sha512sum": (
        '--binary --check --help --ignore-missing --quiet --status --strict --tag --text --version --warn '
        '--zero -b -c -t -w -z',
        ''),
    "sleep": (
        '--help --version',
        ''),
    "stat": (
        '--cached --dereference --file-system --format --help --printf --terse --version -L -c -f -t',
        '--cached --format --printf -c'),
    "strings": (
        '--all --bytes --data --encoding --help --include-all-whitespace --output-separator --print-file-name '
        '--radix --target --unicode --version -T -U -V -a -d -e -f -h -n -o -s -t -v -w',
        '--bytes --encoding --output-separator --radix --target --unicode -T -e -n -t'),
    "tac": (
        '--before --help --regex --separator --version -b -r -s',
        '--separator -s'),
    "tail": (
        '--bytes --follow --help --lines --max-unchanged-stats --pid --quiet --retry --silent '
        '--sleep-interval --verbose --version --zero-terminated -F -c -f -n -q -s -v -z',
        '--bytes --lines --max-unchanged-stats --pid --sleep-interval -c -n -s'),
    "tr": (
        '--complement --delete --help --squeeze-repeats --truncate-set1 --version -C -c -d -s -t',
        ''),
    "uname": (
        '--all --hardware-platform --help --kernel-name --kernel-release --kernel-version --machine '
        '--nodename --operating-system --processor --version -a -i -m -n -o -p -r -s -v',
        ''),
    "uniq": (
        '--all-repeated --check-chars --count --group --help --ignore-case --repeated --skip-chars '
        '--skip-fields --unique --version --zero-terminated -D -c -d -f -i -s -u -w -z',
        '--check-chars --skip-chars --skip-fields -f -s -w'),
    "wc": (
        '--bytes --chars --files0-from --help --lines --max-line-length --version --words -L -c -l -m -w',
        '--files0-from'),
    "whoami": (
        '--help --version',
        ''),
    "zcat": (
        '--force --help --list --quiet --recursive --suffix --synchronous --test --verbose --version -S -f -l '
        '-q -r -t -v',
        '--suffix -S'),
}

OPTIONS: dict[str, frozenset[str]] = {p: frozenset(o.split()) for p, (o, _) in _TABLE.items()}
VALUE_OPTIONS: dict[str, frozenset[str]] = {p: frozenset(v.split()) for p, (_, v) in _TABLE.items()}
for _alias, _name in (("egrep", "grep"), ("fgrep", "grep")):
    OPTIONS[_alias], VALUE_OPTIONS[_alias] = OPTIONS[_name], VALUE_OPTIONS[_name]
