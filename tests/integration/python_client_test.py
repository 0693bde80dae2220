#!/usr/bin/python3
"""A client in another language: Python stubs generated from protos/ at test time drive real
identity and scheduling processes (with a real redis-server) the way an operator's script and a
branch front desk would: read the setup code from the data directory, create the first admin, log
in, create a clinic and staff, WhoAmI; set the clinic's hours, chairs and a technician's shifts,
register a patient, find a free slot, book it and see it in the branch change feed. It also checks
grpc.health.v1 and server reflection with hand-encoded messages, as grpcurl would.

The auditor's checkpoint and log verification (compliance) and a clinic's price list (billing) are
driven the same way.

Inventory staff receive serialised needles and see the stock.

Usage: python_client_test.py --identity BIN --scheduling BIN --compliance BIN --billing BIN
                             --inventory BIN --protos DIR [--redis-server BIN]
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback


def open_channel(target):
    """A channel to `target`: TLS when SMP_TLS_CA names the CA bundle (mutual TLS with
    SMP_TLS_CERT and SMP_TLS_KEY), like smpctl's --tls_ca; else plaintext, for the loopback
    stack this test starts."""
    import grpc
    ca = os.environ.get("SMP_TLS_CA", "")
    if not ca:
        return grpc.insecure_channel(target)

    def read(path):
        with open(path, "rb") as f:
            return f.read()
    cert, key = os.environ.get("SMP_TLS_CERT", ""), os.environ.get("SMP_TLS_KEY", "")
    if bool(cert) != bool(key):
        raise SystemExit("SMP_TLS_CERT and SMP_TLS_KEY: give both or neither")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(ca),
        private_key=read(key) if key else None,
        certificate_chain=read(cert) if cert else None)
    return grpc.secure_channel(target, credentials)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


class Stack:
    """redis-server and identity as child processes; stopped by their PIDs only."""

    def __init__(self, identity, scheduling, compliance, billing, inventory, redis_server):
        self.tmp = tempfile.mkdtemp(prefix="smp-py-")
        self.procs = []
        try:
            self._start(identity, scheduling, compliance, billing, inventory, redis_server)
        except BaseException:
            self.stop()  # never leave a child behind
            raise

    def _service(self, binary, name, *extra):
        ready = os.path.join(self.tmp, name + ".ready")
        self.procs.append(subprocess.Popen(
            [binary, "--listen=127.0.0.1:0", "--ready_file=" + ready,
             "--data_dir=" + os.path.join(self.tmp, name), "--redis=127.0.0.1:%d" % self.redis_port,
             "--session_mac_key_file=" + self.mac_key_file]
            + list(extra),
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.tmp, name + ".log"), "w")))
        return wait_for(lambda: self._ready_port(ready), 20, name + " ready file")

    def _start(self, identity, scheduling, compliance, billing, inventory, redis_server):
        # The key every service shares to sign and check session records (owner-only file).
        self.mac_key_file = os.path.join(self.tmp, "session-mac.key")
        fd = os.open(self.mac_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        self.redis_port = free_port()
        self.procs.append(subprocess.Popen(
            [redis_server, "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(self._redis_up, 10, "redis-server")
        self.data_dir = os.path.join(self.tmp, "identity")
        self.port = self._service(identity, "identity")
        self.scheduling_port = self._service(scheduling, "scheduling")
        self.compliance_port = self._service(
            compliance, "compliance", "--checkpoint_key_file=" + os.path.join(self.tmp, "key"))
        self.billing_port = self._service(billing, "billing")
        self.inventory_port = self._service(inventory, "inventory")

    def _redis_up(self):
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @staticmethod
    def _ready_port(path):
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.strip().partition("=")
                    if key == "grpc_port":
                        return int(value)
        except OSError:
            return None
        return None

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def generate_stubs(protos, out_dir):
    from grpc_tools import protoc
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    include = [p for p in (well_known, "/usr/include") if os.path.isdir(p)]
    files = ["smp/common/v1/auth.proto", "smp/common/v1/dates.proto",
             "smp/common/v1/money.proto", "smp/identity/v1/identity.proto",
             "smp/scheduling/v1/scheduling.proto", "smp/compliance/v1/eligibility.proto",
             "smp/compliance/v1/compliance.proto", "smp/billing/v1/billing.proto",
             "smp/inventory/v1/inventory.proto", "google/rpc/status.proto",
             "google/rpc/error_details.proto"]
    args = ["protoc", "-I" + protos] + ["-I" + p for p in include] + [
        "--python_out=" + out_dir, "--grpc_python_out=" + out_dir] + files
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed")
    sys.path.insert(0, out_dir)


def rich_error(error):
    """The google.rpc details of a failed call, as any gRPC client reads them: (ErrorInfo reasons,
    BadRequest fields) from the `grpc-status-details-bin` trailer."""
    from google.rpc import error_details_pb2, status_pb2
    reasons, fields = [], []
    for key, value in (error.trailing_metadata() or ()):
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        assert status.code == error.code().value[0], (status.code, error.code())
        for any_detail in status.details:
            info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
            if any_detail.Unpack(info):
                reasons.append(info.reason)
            elif any_detail.Unpack(bad):
                fields.extend(v.field for v in bad.field_violations)
    return reasons, fields


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--identity", required=True)
    parser.add_argument("--scheduling", required=True)
    parser.add_argument("--compliance", required=True)
    parser.add_argument("--billing", required=True)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--protos", required=True)
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    args = parser.parse_args()

    import grpc
    stub_dir = tempfile.mkdtemp(prefix="smp-py-stubs-")
    generate_stubs(args.protos, stub_dir)
    from smp.common.v1 import auth_pb2
    from smp.identity.v1 import identity_pb2 as pb
    from smp.identity.v1 import identity_pb2_grpc as rpc
    from smp.common.v1 import dates_pb2
    from smp.scheduling.v1 import scheduling_pb2 as sch
    from smp.scheduling.v1 import scheduling_pb2_grpc as sch_rpc

    from smp.common.v1 import money_pb2
    from smp.compliance.v1 import compliance_pb2 as comp
    from smp.compliance.v1 import compliance_pb2_grpc as comp_rpc
    from smp.billing.v1 import billing_pb2 as bill
    from smp.billing.v1 import billing_pb2_grpc as bill_rpc

    from smp.inventory.v1 import inventory_pb2 as inv
    from smp.inventory.v1 import inventory_pb2_grpc as inv_rpc

    stack = Stack(args.identity, args.scheduling, args.compliance, args.billing, args.inventory,
                  args.redis_server)
    passed, failed = 0, 0
    try:
        channel = open_channel("127.0.0.1:%d" % stack.port)
        grpc.channel_ready_future(channel).result(timeout=10)
        stub = rpc.IdentityServiceStub(channel)
        state = {}

        def bearer(token):
            return [("authorization", "Bearer " + token)]

        def health_is_serving():
            check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                        request_serializer=lambda _: b"",
                                        response_deserializer=lambda b: b)
            assert check(None, timeout=5) == b"\x08\x01", "health is not SERVING"

        def reflection_lists_identity():
            info = channel.stream_stream(
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                request_serializer=lambda b: b, response_deserializer=lambda b: b)
            replies = list(info(iter([b"\x3a\x00"]), timeout=5))  # list_services: ""
            assert any(b"smp.identity.v1.IdentityService" in r for r in replies), replies

        def bootstrap_first_admin():
            with open(os.path.join(stack.data_dir, "identity-setup-code")) as f:
                code = f.read().strip()
            admin = stub.BootstrapAdmin(pb.BootstrapAdminRequest(
                setup_code=code, username="Owner", display_name="Chain Owner",
                password="a very good password"), timeout=10)
            assert admin.username == "owner" and auth_pb2.ROLE_ADMIN in admin.roles
            assert not os.path.exists(os.path.join(stack.data_dir, "identity-setup-code"))

        def login():
            resp = stub.Login(pb.LoginRequest(username="owner", password="a very good password"),
                              timeout=10)
            assert len(resp.access_token) == 43, resp.access_token
            state["token"] = resp.access_token

        def create_clinic_and_staff():
            clinic = stub.CreateClinic(pb.CreateClinicRequest(
                request_id="py-clinic-1",
                clinic=pb.Clinic(name="Chicago Loop", time_zone="America/Chicago")),
                metadata=bearer(state["token"]), timeout=10)
            assert len(clinic.id) == 26 and clinic.etag
            staff = stub.CreateStaff(pb.CreateStaffRequest(
                request_id="py-staff-1",
                staff=pb.Staff(username="front.desk", display_name="Front Desk",
                               roles=[auth_pb2.ROLE_FRONT_DESK], clinic_ids=[clinic.id]),
                initial_password="front desk password"),
                metadata=bearer(state["token"]), timeout=10)
            assert list(staff.clinic_ids) == [clinic.id]
            state["clinic"], state["desk"] = clinic.id, None
            desk = stub.Login(pb.LoginRequest(username="front.desk",
                                              password="front desk password"), timeout=10)
            state["desk"] = desk.access_token
            me = stub.WhoAmI(pb.WhoAmIRequest(), metadata=bearer(desk.access_token), timeout=10)
            assert me.staff.username == "front.desk"
            assert auth_pb2.PERMISSION_CLINICS_WRITE not in me.permissions

        def whoami_and_bad_input():
            me = stub.WhoAmI(pb.WhoAmIRequest(), metadata=bearer(state["token"]), timeout=10)
            assert me.staff.username == "owner"
            try:
                stub.CreateClinic(pb.CreateClinicRequest(
                    request_id="py-bad", clinic=pb.Clinic(name="X", time_zone="Nowhere/City")),
                    metadata=bearer(state["token"]), timeout=10)
                raise AssertionError("bad time zone accepted")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
                # The bad field, read from the structured details rather than the text.
                assert rich_error(e)[1] == ["clinic.time_zone"], rich_error(e)

        def front_desk_books_a_consultation():
            import datetime
            sched = sch_rpc.SchedulingServiceStub(
                open_channel("127.0.0.1:%d" % stack.scheduling_port))
            admin, desk, clinic = bearer(state["token"]), bearer(state["desk"]), state["clinic"]
            tech = stub.CreateStaff(pb.CreateStaffRequest(
                request_id="py-tech", staff=pb.Staff(
                    username="tech.one", display_name="Tech One",
                    roles=[auth_pb2.ROLE_TECHNICIAN], clinic_ids=[clinic]),
                initial_password="technician password"), metadata=admin, timeout=10)
            every_day = [sch.WeeklyInterval(day=d, start_time=dates_pb2.LocalTime(hours=9),
                                            end_time=dates_pb2.LocalTime(hours=17))
                         for d in range(1, 8)]
            sched.UpdateClinicSchedule(sch.UpdateClinicScheduleRequest(
                request_id="py-sched", schedule=sch.ClinicSchedule(
                    clinic_id=clinic, time_zone="America/Chicago", opening_hours=every_day)),
                metadata=admin, timeout=10)
            sched.CreateChair(sch.CreateChairRequest(
                request_id="py-chair", chair=sch.Chair(clinic_id=clinic, name="Chair 1")),
                metadata=admin, timeout=10)
            sched.SetWorkingHours(sch.SetWorkingHoursRequest(
                request_id="py-hours", working_hours=sch.WorkingHours(
                    practitioner_id=tech.id, clinic_id=clinic, intervals=every_day)),
                metadata=admin, timeout=10)
            patient = sched.CreatePatient(sch.CreatePatientRequest(
                request_id="py-patient", patient=sch.Patient(
                    given_name="Alex", family_name="Kim", phone="+13125550123",
                    preferred_clinic_id=clinic)), metadata=desk, timeout=10)
            day = datetime.date.today() + datetime.timedelta(days=7)
            date = dates_pb2.LocalDate(year=day.year, month=day.month, day=day.day)
            slots = sched.FindAvailability(sch.FindAvailabilityRequest(
                clinic_id=clinic, type=sch.CONSULTATION,
                period=dates_pb2.DateRange(start_date=date, end_date=date)),
                metadata=desk, timeout=10).slots
            assert len(slots) > 0 and slots[0].practitioner_id == tech.id, slots
            booked = sched.BookAppointment(sch.BookAppointmentRequest(
                request_id="py-book", clinic_id=clinic, patient_id=patient.id,
                practitioner_id=tech.id, type=sch.CONSULTATION, start_time=slots[0].start_time),
                metadata=desk, timeout=10)
            assert booked.status == sch.BOOKED and booked.chair_id == slots[0].chair_id
            feed = sched.ListChanges(sch.ListChangesRequest(clinic_id=clinic),
                                     metadata=desk, timeout=10)
            assert [c.appointment.id for c in feed.changes] == [booked.id], feed
            try:  # a sample patch needs compliance, which this stack does not run
                sched.BookAppointment(sch.BookAppointmentRequest(
                    request_id="py-patch", clinic_id=clinic, patient_id=patient.id,
                    practitioner_id=tech.id, type=sch.SAMPLE_PATCH, start_time=slots[-1].start_time),
                    metadata=desk, timeout=10)
                raise AssertionError("procedure booked without a compliance gate")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.UNAVAILABLE, e

        def auditor_checkpoints_and_verifies_the_log():
            stub.CreateStaff(pb.CreateStaffRequest(
                request_id="py-auditor", staff=pb.Staff(
                    username="auditor.one", display_name="Auditor", roles=[auth_pb2.ROLE_AUDITOR]),
                initial_password="auditor password"), metadata=bearer(state["token"]), timeout=10)
            auditor = bearer(stub.Login(pb.LoginRequest(
                username="auditor.one", password="auditor password"), timeout=10).access_token)
            audit = comp_rpc.ComplianceServiceStub(
                open_channel("127.0.0.1:%d" % stack.compliance_port))
            checkpoint = audit.CreateCheckpoint(comp.CreateCheckpointRequest(), metadata=auditor,
                                                timeout=10)
            assert checkpoint.count >= 1 and len(checkpoint.signature) == 128, checkpoint
            verdict = audit.VerifyAuditLog(comp.VerifyAuditLogRequest(), metadata=auditor, timeout=10)
            assert verdict.intact, verdict
            ok = audit.VerifyCheckpoint(comp.VerifyCheckpointRequest(checkpoint=checkpoint),
                                        metadata=auditor, timeout=10)
            assert ok.valid, ok
            try:  # auditors change nothing
                audit.SetRetentionPolicy(comp.SetRetentionPolicyRequest(
                    request_id="py-ret", policy=comp.RetentionPolicy(
                        clinic_id=state["clinic"], client_records_years=2)),
                    metadata=auditor, timeout=10)
                raise AssertionError("an auditor changed a policy")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.PERMISSION_DENIED, e
                assert rich_error(e)[0] == ["MISSING_PERMISSION"], rich_error(e)

        def clerk_sets_a_price_list():
            import datetime
            billing = bill_rpc.BillingServiceStub(
                open_channel("127.0.0.1:%d" % stack.billing_port))
            usd = lambda cents: money_pb2.Money(amount_minor=cents, currency_code="USD")
            yesterday = datetime.date.today() - datetime.timedelta(days=1)
            admin = bearer(state["token"])
            billing.CreatePriceList(bill.CreatePriceListRequest(
                request_id="py-prices", price_list=bill.PriceList(
                    clinic_id=state["clinic"],
                    effective_date=dates_pb2.LocalDate(
                        year=yesterday.year, month=yesterday.month, day=yesterday.day),
                    time_zone="America/Chicago", currency_code="USD", tax_rate_bp=825,
                    consultation_fee=usd(15000),
                    session_prices=bill.SessionPrices(hairline=usd(145000), crown=usd(160000),
                                                      full_scalp=usd(220000),
                                                      scar_camouflage=usd(90000)),
                    sample_patch_fee=usd(10000), touch_up_fee=usd(60000),
                    late_cancellation_fee=usd(5000), no_show_fee=usd(7500))),
                metadata=admin, timeout=10)
            current = billing.GetEffectivePriceList(bill.GetEffectivePriceListRequest(
                clinic_id=state["clinic"]), metadata=admin, timeout=10)
            assert current.session_prices.hairline.amount_minor == 145000, current
            try:  # money is never negative
                billing.CreatePriceList(bill.CreatePriceListRequest(
                    request_id="py-prices-bad", price_list=bill.PriceList(
                        clinic_id=state["clinic"], effective_date=current.effective_date,
                        time_zone="America/Chicago", currency_code="USD",
                        consultation_fee=usd(-1))), metadata=admin, timeout=10)
                raise AssertionError("a negative fee was accepted")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e

        def inventory_receives_needles():
            import datetime
            stock = inv_rpc.InventoryServiceStub(
                open_channel("127.0.0.1:%d" % stack.inventory_port))
            admin = bearer(state["token"])
            stock.UpdateClinicInventorySettings(inv.UpdateClinicInventorySettingsRequest(
                request_id="py-inv-settings", settings=inv.ClinicInventorySettings(
                    clinic_id=state["clinic"], time_zone="America/Chicago")),
                metadata=admin, timeout=10)
            product = stock.CreateProduct(inv.CreateProductRequest(
                request_id="py-product", product=inv.Product(
                    name="3RL 0.30 mm cartridge", sku="NC-3RL-30", unit=inv.UNIT_OF_MEASURE_EACH,
                    single_use=True, needle_cartridge=inv.NeedleCartridgeSpec(
                        configuration="3RL", needle_diameter_um=300))),
                metadata=admin, timeout=10)
            expiry = datetime.date.today() + datetime.timedelta(days=365)
            stock.ReceiveStock(inv.ReceiveStockRequest(
                request_id="py-receive", clinic_id=state["clinic"], product_id=product.id,
                lot_number="LOT-A1",
                expiry_date=dates_pb2.LocalDate(year=expiry.year, month=expiry.month, day=expiry.day),
                quantity=3, serials=["UDI-0001", "UDI-0002", "UDI-0003"], supplier="Acme Needles"),
                metadata=admin, timeout=10)
            levels = stock.ListStock(inv.ListStockRequest(clinic_id=state["clinic"]),
                                     metadata=admin, timeout=10).levels
            assert [(l.lot_number, l.available) for l in levels] == [("LOT-A1", 3)], levels
            try:  # a serial is unique in the whole chain
                stock.ReceiveStock(inv.ReceiveStockRequest(
                    request_id="py-receive-dup", clinic_id=state["clinic"], product_id=product.id,
                    lot_number="LOT-A2",
                    expiry_date=dates_pb2.LocalDate(year=expiry.year, month=expiry.month,
                                                    day=expiry.day),
                    quantity=1, serials=["UDI-0002"]), metadata=admin, timeout=10)
                raise AssertionError("a duplicate serial was received")
            except grpc.RpcError as e:
                assert e.code() in (grpc.StatusCode.INVALID_ARGUMENT,
                                    grpc.StatusCode.ALREADY_EXISTS), e

        for test in (health_is_serving, reflection_lists_identity, bootstrap_first_admin, login,
                     create_clinic_and_staff, whoami_and_bad_input,
                     front_desk_books_a_consultation, auditor_checkpoints_and_verifies_the_log,
                     clerk_sets_a_price_list, inventory_receives_needles):
            try:
                test()
                passed += 1
                print("[ OK ] " + test.__name__)
            except Exception:  # noqa: BLE001 - report every failure, keep going
                failed += 1
                print("[FAIL] " + test.__name__)
                traceback.print_exc()
    finally:
        stack.stop()
        shutil.rmtree(stub_dir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
