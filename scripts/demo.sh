#!/usr/bin/env bash
# The demo chain, driven through smpctl the way its users would drive it. run-suite.sh calls:
#   demo.sh accounts  the first admin ("owner") and the service accounts scheduling, inventory,
#                     compliance and billing run under (before they start: they need their
#                     credentials files)
#   demo.sh chain     3 clinics in 3 time zones, their staff, opening hours, chairs, shifts, needle
#                     and pigment stock, price lists, practitioner credentials and clinic permits
#   demo.sh day       a demo day: patients at each clinic, consent and screening, bookings, a full
#                     procedure (check-in, start with needles and pigment, complete), the invoice
#                     paid, and the auditor's report exported to a file
# Each step runs once per data directory except `day`, which runs on every start.
# Environment: SMP_DATA_DIR (required), SMPCTL (the smpctl binary), SMPCTL_<SERVICE> addresses.
set -euo pipefail

data_dir="${SMP_DATA_DIR:?set SMP_DATA_DIR}"
SMPCTL="${SMPCTL:?set SMPCTL to the smpctl binary}"
secrets="$data_dir/secrets"
state="$secrets/chain.env" # ids the later steps need (clinics, staff, products, lots)
umask 077
mkdir -p "$secrets/tokens" "$data_dir/reports"

say() { printf '  %s\n' "$*"; }
# as USER smpctl-args...: runs smpctl with USER's token file.
as() {
  local user=$1
  shift
  SMPCTL_TOKEN_FILE="$secrets/tokens/$user" "$SMPCTL" "$@"
}
# id_of USER smpctl-args...: runs the command with --json and prints the result's id.
id_of() {
  local user=$1
  shift
  as "$user" --json "$@" | jq -r '.id'
}
remember() { echo "$1=$2" >>"$state.partial"; }
new_password() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24; }
login() { as "$1" login --username "$1" --password_file "$2" >/dev/null; }
# password_file USER: prints the file of USER's own demo password, generating it (0600) if new.
# Every demo account has its own, so one user's password does not open another's account.
password_file() {
  local file="$secrets/passwords/$1"
  if [ ! -f "$file" ]; then
    mkdir -p "$secrets/passwords"
    new_password >"$file"
  fi
  echo "$file"
}
# demo_login USER: logs USER in with its own password (a chain seeded before per-account
# passwords keeps the shared demo.password).
demo_login() {
  if [ -f "$secrets/passwords/$1" ]; then
    login "$1" "$secrets/passwords/$1"
  else
    login "$1" "$secrets/demo.password"
  fi
}
# local_date ZONE [RELATIVE]: the clinic's calendar date today, moved by RELATIVE ("-1 month",
# "+1 year", "yesterday"), as YYYY-MM-DD. The arithmetic is done on the date in UTC: done on the
# local time, GNU date keeps the wall clock across a DST change, so late in the evening "+11
# months" could land on the day after (a year of training then reads as a year and a day).
local_date() {
  local today
  today=$(TZ="$1" date +%F)
  date -u -d "$today ${2:-}" +%F
}

accounts() {
  new_password >"$secrets/owner.password"
  "$SMPCTL" bootstrap-admin --setup_code_file="$data_dir/identity/identity-setup-code" \
    --username=owner --display_name="Chain Owner" --password_file="$secrets/owner.password" >/dev/null
  login owner "$secrets/owner.password"
  say "first admin: owner (password in $secrets/owner.password)"
  for service in scheduling inventory compliance billing; do
    local password
    password="$(new_password)"
    printf '%s\n' "$password" >"$secrets/svc.$service.password"
    as owner staff create --username="svc.$service" --display_name="$service service" \
      --role=service --password_file="$secrets/svc.$service.password" >/dev/null
    printf 'svc.%s\n%s\n' "$service" "$password" >"$secrets/svc.$service.credentials"
    rm -f "$secrets/svc.$service.password"
    say "service account svc.$service (credentials in $secrets/svc.$service.credentials)"
  done
}

# clinic SLUG NAME ZONE CURRENCY PHONE PRICES...
clinic() {
  local slug=$1 name=$2 zone=$3 currency=$4 phone=$5
  shift 5
  local clinic tech today
  clinic=$(id_of owner clinic create --name="$name" --time_zone="$zone" --phone="$phone")
  remember "CLINIC_$slug" "$clinic"
  for role in front_desk:desk technician:tech inventory_staff:stock; do
    local staff
    staff=$(id_of owner staff create --username="${role#*:}.$slug" --role="${role%%:*}" \
      --clinic="$clinic" --password_file="$(password_file "${role#*:}.$slug")")
    if [ "${role#*:}" = tech ]; then tech=$staff; fi
  done
  demo_login "stock.$slug"
  remember "TECH_$slug" "$tech"
  today=$(local_date "$zone")

  # Scheduling: hours, chairs, the technician's shifts (the time zone comes from identity).
  as owner schedule update --clinic="$clinic" --open=mon-sat/08:00-20:00 >/dev/null
  as owner chair create --clinic="$clinic" --name="Chair 1" >/dev/null
  as owner chair create --clinic="$clinic" --name="Chair 2" >/dev/null
  as owner hours set --practitioner="$tech" --clinic="$clinic" \
    --shift=mon-sat/08:00-19:00 >/dev/null

  # Inventory: 40 sealed needle cartridges by serial, 10 bottles of each pigment.
  as owner inventory-settings set --clinic="$clinic" >/dev/null
  local serials=() upper
  upper=$(echo "$slug" | tr '[:lower:]' '[:upper:]')
  for i in $(seq -w 1 40); do serials+=("--serial=N-$upper-$i"); done
  as "stock.$slug" stock receive --clinic="$clinic" --product="$NEEDLE" --lot="N-$upper-2611" \
    --expiry="$(local_date "$zone" '+1 year')" --supplier="Acme Medical" "${serials[@]}" >/dev/null
  remember "PIGMENT_LOT_$slug" "$(as "stock.$slug" --json stock receive --clinic="$clinic" \
    --product="$ESPRESSO" --lot="P-$upper-77" --expiry="$(local_date "$zone" '+18 months')" \
    --quantity=10 --supplier="Acme Pigments" | jq -r '.lot.id')"
  as "stock.$slug" stock receive --clinic="$clinic" --product="$CHARCOAL" --lot="C-$upper-12" \
    --expiry="$(local_date "$zone" '+18 months')" --quantity=10 --supplier="Acme Pigments" >/dev/null

  # Billing: this clinic's prices, in its currency.
  as owner price-list create --clinic="$clinic" --effective="$(local_date "$zone" yesterday)" \
    --currency="$currency" "$@" >/dev/null

  # Compliance: the technician's credentials and the clinic's health permit, valid for a year.
  local from until
  from=$(local_date "$zone" '-1 month')
  until=$(local_date "$zone" '+11 months')
  as owner credential record --practitioner="$tech" --kind=smp_certification \
    --issuer="SMP Academy" --number="SMP-$upper-1" --valid_from="$from" --valid_until="$until" >/dev/null
  as owner credential record --practitioner="$tech" --kind=body_art_license \
    --issuer="$name health authority" --number="BA-$upper-1" --valid_from="$from" \
    --valid_until="$until" >/dev/null
  as owner credential record --practitioner="$tech" --kind=bloodborne_pathogen_training \
    --issuer="Red Cross" --training_summary="OSHA bloodborne pathogens standard" \
    --trainer="Dana Lee" --trainer_qualification="RN, certified instructor" \
    --training_date="$from" --valid_from="$from" --valid_until="$until" >/dev/null
  as owner permit record --clinic="$clinic" --issuer="$name health authority" \
    --number="PERMIT-$upper" --valid_from="$from" --valid_until="$until" >/dev/null
  say "$name ($zone, $currency): staff desk.$slug, tech.$slug, stock.$slug; 2 chairs; 40 needles, 20 bottles"
}

chain() {
  if [ -f "$state.partial" ]; then
    echo "demo: an earlier seeding of $data_dir was interrupted; remove the directory to start again" >&2
    return 1
  fi
  login owner "$secrets/owner.password"
  NEEDLE=$(id_of owner product create --name="3RL 0.30 mm cartridge" --kind=needle_cartridge \
    --configuration=3RL --diameter_um=300 --sku=ACME-3RL30)
  ESPRESSO=$(id_of owner product create --name="Dark Espresso 15 ml" --kind=pigment \
    --brand=Acme --shade="Dark Espresso" --opened_shelf_life_days=365)
  CHARCOAL=$(id_of owner product create --name="Charcoal 15 ml" --kind=pigment --brand=Acme \
    --shade=Charcoal --opened_shelf_life_days=365)
  remember NEEDLE "$NEEDLE"
  clinic austin "Austin Downtown" America/Chicago USD +15125550100 --tax_bp=825 \
    --consultation=150.00 --sample_patch=100.00 --hairline=1450.00 --crown=1600.00 \
    --full_scalp=2200.00 --scar_camouflage=900.00 --touch_up=600.00 --late_cancellation=50.00 \
    --no_show=75.00
  clinic london "London Soho" Europe/London GBP +442079460100 --consultation=120.00 \
    --sample_patch=80.00 --hairline=1200.00 --crown=1300.00 --full_scalp=1900.00 \
    --scar_camouflage=750.00 --touch_up=500.00 --late_cancellation=40.00 --no_show=60.00
  clinic sydney "Sydney CBD" Australia/Sydney AUD +61290000100 --consultation=200.00 \
    --sample_patch=150.00 --hairline=2200.00 --crown=2400.00 --full_scalp=3300.00 \
    --scar_camouflage=1300.00 --touch_up=900.00 --late_cancellation=75.00 --no_show=100.00
  # shellcheck disable=SC1090
  source "$state.partial"
  as owner staff create --username=billing.clerk --role=billing_clerk --clinic="$CLINIC_austin" \
    --clinic="$CLINIC_london" --clinic="$CLINIC_sydney" \
    --password_file="$(password_file billing.clerk)" >/dev/null
  as owner staff create --username=auditor --role=auditor \
    --password_file="$(password_file auditor)" >/dev/null
  say "billing.clerk (all three clinics) and auditor; each demo account's own password is in $secrets/passwords/<username>"
  mv "$state.partial" "$state"
}

# new_patient SLUG GIVEN FAMILY PHONE: prints the patient id, with consent and screening on file.
new_patient() {
  local slug=$1 clinic_var="CLINIC_$1" patient
  patient=$(id_of "desk.$slug" patient create --given_name="$2" --family_name="$3" \
    --phone="$4" --clinic="${!clinic_var}")
  as "tech.$slug" consent record --patient="$patient" --clinic="${!clinic_var}" \
    --form_version=2026-03 >/dev/null
  as "tech.$slug" screening record --patient="$patient" --clinic="${!clinic_var}" >/dev/null
  echo "$patient"
}

# first_slot SLUG TYPE: prints "START PRACTITIONER" of the earliest free slot in the next week.
first_slot() {
  local clinic_var="CLINIC_$1"
  as "desk.$1" --json availability find --clinic="${!clinic_var}" --type="$2" --max=1 |
    jq -r '.slots[0] | "\(.startTime) \(.practitionerId)"'
}

day() {
  # shellcheck disable=SC1090
  source "$state"
  for user in desk.austin tech.austin stock.austin desk.london desk.sydney tech.london \
    tech.sydney billing.clerk auditor; do
    demo_login "$user"
  done
  local stamp
  stamp=$(date +%H%M%S)
  echo "A demo day (smpctl commands as each user would type them; see README 'A demo day'):"

  # London and Sydney: the front desks book consultations.
  for slug in london sydney; do
    local patient slot clinic_var="CLINIC_$slug"
    patient=$(new_patient "$slug" "Alex" "Demo-$stamp" "+447700900$((RANDOM % 900 + 100))")
    read -r start practitioner < <(first_slot "$slug" consultation)
    as "desk.$slug" appointment book --clinic="${!clinic_var}" --patient="$patient" \
      --practitioner="$practitioner" --start="$start" --type=consultation >/dev/null
    say "desk.$slug booked a consultation at $start (UTC) for patient $patient"
  done

  # Austin: a sample patch from booking to payment.
  local patient appointment start practitioner
  patient=$(new_patient austin "Sam" "Rivera-$stamp" "+1512555$((RANDOM % 9000 + 1000))")
  say "desk.austin registered patient $patient; tech.austin recorded consent and screening"
  read -r start practitioner < <(first_slot austin sample_patch)
  appointment=$(id_of desk.austin appointment book --clinic="$CLINIC_austin" \
    --patient="$patient" --practitioner="$practitioner" --start="$start" --type=sample_patch)
  say "desk.austin booked sample patch $appointment at $start (compliance allowed it)"
  as desk.austin appointment check-in "$appointment" >/dev/null
  say "desk.austin checked the patient in"
  local serial
  serial=$(as tech.austin --json stock suggest --clinic="$CLINIC_austin" --product="$NEEDLE" \
    --quantity=1 --date="$(local_date America/Chicago)" | jq -r '.suggestions[0].serials[0]')
  as tech.austin appointment start "$appointment" --supply="serial=$serial" \
    --supply="lot=$PIGMENT_LOT_austin:1" >/dev/null
  say "tech.austin started it; inventory issued needle $serial and a bottle of Dark Espresso"
  as tech.austin appointment complete "$appointment" --checklist=all \
    --blend="Dark Espresso, diluted 1:1" --anaesthetic="lidocaine 5% cream" >/dev/null
  say "tech.austin completed it; the record went to compliance and the charge to billing"

  local invoice="" total=""
  for _ in $(seq 1 100); do
    read -r invoice total < <(as billing.clerk --json invoice list --clinic="$CLINIC_austin" \
      --patient="$patient" | jq -r '.invoices[0] // empty | "\(.id) \(.totals.total.amountMinor)"') || true
    [ -n "$invoice" ] && break
    sleep 0.2
  done
  if [ -z "$invoice" ]; then
    echo "demo: billing has not received the charge yet (see data/logs/scheduling.log)" >&2
    return 1
  fi
  local amount
  amount=$(printf '%d.%02d' $((total / 100)) $((total % 100)))
  as billing.clerk payment record --invoice="$invoice" --amount="$amount" --method=card \
    --last4=4242 --reference="AUTH-$stamp" >/dev/null
  say "billing.clerk took payment of $amount USD for invoice $invoice"

  local from to report
  from=$(local_date America/Chicago '-30 days')
  to=$(local_date America/Chicago '+1 day')
  report="$data_dir/reports/compliance-$(date +%F-%H%M%S).csv"
  for _ in $(seq 1 100); do
    as auditor --json report generate --from="$from" --to="$to" |
      jq -e "select(.procedure.appointmentId == \"$appointment\")" >/dev/null && break
    sleep 0.2
  done
  as auditor report export --from="$from" --to="$to" --format=csv --out="$report" >/dev/null
  say "auditor exported the compliance report for $from..$to to $report"
  echo
  as auditor report generate --from="$from" --to="$to" | tail -n 12
}

case "${1:-}" in
  accounts) accounts ;;
  chain) chain ;;
  day) day ;;
  *)
    echo "usage: demo.sh accounts|chain|day" >&2
    exit 2
    ;;
esac
