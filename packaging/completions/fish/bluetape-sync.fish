# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_bluetape_sync_global_optspecs
    string join \n config= once dry-run full accept-new-ids h/help V/version
end

function __fish_bluetape_sync_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_bluetape_sync_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_bluetape_sync_using_subcommand
    set -l cmd (__fish_bluetape_sync_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -l once -d 'One pass, then exit (same as `run --once`)'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -l dry-run -d 'Read, validate and diff, print what would be sent; send nothing, change nothing'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -l full -d 'Compare every record with the store, ignoring the watermark, for this pass'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -l accept-new-ids -d 'The mapping now reads ids from another field: send every record under its new id (each is created again in BlueTape), and remember the new field'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -s V -l version -d 'Print version'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "run" -d 'Sync on the schedule; with --once, one pass and exit'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "check" -d 'Check the config (every problem at once) and the export, show a sample of mapped records and what would be rejected; changes nothing'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "status" -d 'The watermark, records per state, the queue and the last passes'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "failures" -d 'Rejected and failed records with their reasons'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "export" -d 'Created customers with blueTapeId and signUpUrl, so the supplier can send invites'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "retry" -d 'Queue rejected or failed records again (all of them unless narrowed); the next pass sends them'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "forget" -d 'Remove a record from the store, so the next pass treats it as new'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "init" -d 'Print a ready config for an export nobody has mapped: its preset, or each field\'s column, the encoding, delimiter and date form, and its first records as they would be sent (`init export.csv > config.toml`). Reads only the first records; changes nothing'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "connect" -d 'Link the store to a QuickBooks Online or Xero company (SPEC §11): prints the consent URL; paste the URL the browser is sent to, or catch it with --listen'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "disconnect" -d 'Revoke the link to QuickBooks Online or Xero at the provider, and forget it'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "show" -d 'A record\'s state, name, BlueTape ids, reason and history: by its id, email or name as the accounting system shows it (`show jane@example.com`), or by its exact id (`--id`)'
complete -c bluetape-sync -n "__fish_bluetape_sync_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand run" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand run" -l once -d 'One pass, then exit'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand run" -l dry-run -d 'Read, validate and diff, print what would be sent; send nothing, change nothing'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand run" -l full -d 'Compare every record with the store, ignoring the watermark, for this pass'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand run" -l accept-new-ids -d 'The mapping now reads ids from another field: send every record under its new id (each is created again in BlueTape), and remember the new field'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand run" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand check" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand check" -l online -d 'Also ask BlueTape whether it accepts the key (GET .../integration/customer/bluetape-sync-check/signup, which changes nothing)'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand check" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand status" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand status" -l json
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand status" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand failures" -l format -r -f -a "table\t''
csv\t''
json\t''"
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand failures" -l state -d 'Only `rejected`, only `failed`, or only `waiting` (invoices waiting for their customer)' -r
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand failures" -l since -d 'Only those changed since a time (`2024-03-01`, RFC 3339) or for a while (`24h`)' -r
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand failures" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand failures" -l raw -d 'CSV cells verbatim: without it, a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) gets a leading `\'`'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand failures" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand export" -l format -r -f -a "table\t''
csv\t''
json\t''"
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand export" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand export" -l fetch-missing -d 'Also customers that were already in BlueTape (409), asking BlueTape for the sign-up URL of each that has none yet'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand export" -l raw -d 'CSV cells verbatim: without it, a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) gets a leading `\'`'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand export" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand retry" -l id -d 'Only this record (repeatable)' -r
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand retry" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand retry" -l all-failed -d 'Only the failed records (and any --id)'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand retry" -l all-rejected -d 'Only the rejected records (and any --id)'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand retry" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand forget" -l id -r
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand forget" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand forget" -l yes -d 'Do not ask for confirmation'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand forget" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand init" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand init" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand connect" -l tenant -d 'Xero: the organisation (its name or id) when the consent covers several' -r
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand connect" -l listen -d 'Catch the browser\'s redirect at this address (e.g. 127.0.0.1:5001)' -r
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand connect" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand connect" -l status -d 'Show the link instead: the company, when it was linked, when it expires'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand connect" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand disconnect" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand disconnect" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand show" -l id -r
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand show" -l config -d 'The config file' -r -F
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand show" -l json
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand show" -s h -l help -d 'Print help'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "run" -d 'Sync on the schedule; with --once, one pass and exit'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "check" -d 'Check the config (every problem at once) and the export, show a sample of mapped records and what would be rejected; changes nothing'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "status" -d 'The watermark, records per state, the queue and the last passes'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "failures" -d 'Rejected and failed records with their reasons'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "export" -d 'Created customers with blueTapeId and signUpUrl, so the supplier can send invites'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "retry" -d 'Queue rejected or failed records again (all of them unless narrowed); the next pass sends them'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "forget" -d 'Remove a record from the store, so the next pass treats it as new'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "init" -d 'Print a ready config for an export nobody has mapped: its preset, or each field\'s column, the encoding, delimiter and date form, and its first records as they would be sent (`init export.csv > config.toml`). Reads only the first records; changes nothing'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "connect" -d 'Link the store to a QuickBooks Online or Xero company (SPEC §11): prints the consent URL; paste the URL the browser is sent to, or catch it with --listen'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "disconnect" -d 'Revoke the link to QuickBooks Online or Xero at the provider, and forget it'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "show" -d 'A record\'s state, name, BlueTape ids, reason and history: by its id, email or name as the accounting system shows it (`show jane@example.com`), or by its exact id (`--id`)'
complete -c bluetape-sync -n "__fish_bluetape_sync_using_subcommand help; and not __fish_seen_subcommand_from run check status failures export retry forget init connect disconnect show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
