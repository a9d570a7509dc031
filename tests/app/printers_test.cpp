#include "app/client/client_printer.hpp"
#include "app/member_node.hpp"
#include "app/member_printer.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace rpcnetd;

TEST_CASE("client_printer: jsonl follows the DESIGN.md §5 contract", "[app]") {
    std::ostringstream out;
    app::client_printer p(out, cli::client_output::jsonl);
    p.token(7, "token-7", "worker-a", 7);
    p.failover("worker-a", "connection reset", 8);
    p.waiting("no workers available");
    p.done(200, 1);
    CHECK(out.str() ==
          "{\"event\":\"token\",\"sequence\":7,\"text\":\"token-7\",\"worker\":\"worker-a\"}\n"
          "{\"event\":\"failover\",\"from\":\"worker-a\",\"reason\":\"connection reset\","
          "\"resume_at\":8}\n"
          "{\"event\":\"waiting\",\"reason\":\"no workers available\"}\n"
          "{\"event\":\"done\",\"total\":200,\"failovers\":1}\n");
}

TEST_CASE("client_printer: text lines follow the original demo", "[app]") {
    std::ostringstream out;
    app::client_printer p(out, cli::client_output::text);
    p.token(1, "token-1", "worker-a", 1);
    CHECK(out.str().find("📦 received token (sequence=1, text=\"token-1\", total=1)") == 0);
}

TEST_CASE("member_printer: json array with the contract's keys", "[app]") {
    v1::MembersResponse r;
    auto* m = r.add_members();
    m->set_name("worker-a");
    m->set_addr("127.0.0.1:62001");
    m->set_state("alive");
    m->set_incarnation(5);
    m->set_active_streams(2);
    auto* t = m->add_tags();
    t->set_key("role");
    t->set_value("worker");
    CHECK(app::members_json(r) ==
          "[{\"name\":\"worker-a\",\"addr\":\"127.0.0.1:62001\",\"state\":\"alive\","
          "\"incarnation\":5,\"tags\":{\"role\":\"worker\"},\"active_streams\":2,"
          "\"assignable\":false,\"health\":\"unknown\",\"health_rtt_ms\":0,\"capacity\":0,"
          "\"draining\":false}]\n");
    CHECK(app::members_table(r).find("worker-a") != std::string::npos);
}

TEST_CASE("member_printer: what the director decides shows in json and the table", "[app]") {
    membership::member mem;
    mem.name = "worker-b";
    mem.addr = common::endpoint{"127.0.0.1", 62002};
    mem.status = membership::member_status::alive;
    mem.incarnation = 3;
    mem.tags = {{"role", "worker"}, {"capacity", "4"}};
    v1::MembersResponse r;
    auto* m = r.add_members();
    app::fill_member_info(*m, mem);
    CHECK(m->capacity() == 4);
    CHECK(m->health() == "unknown");
    m->set_assignable(true);
    m->set_health("ok");
    m->set_health_rtt_ms(0.4126);
    const auto json = app::members_json(r);
    CHECK(json.find("\"assignable\":true,\"health\":\"ok\",\"health_rtt_ms\":0.413,"
                    "\"capacity\":4,\"draining\":false}") != std::string::npos);
    const auto table = app::members_table(r);
    CHECK(table.find("ASSIGNABLE") != std::string::npos);
    CHECK(table.find(" yes ") != std::string::npos);
    CHECK(table.find(" 0.41 ") != std::string::npos);

    // A capacity tag that is not a number counts as none ("-" in the table).
    mem.tags["capacity"] = "lots";
    v1::MemberInfo bad;
    app::fill_member_info(bad, mem);
    CHECK(bad.capacity() == 0);
}

TEST_CASE("member_printer: events as text with UTC time and the director's labels, or as json",
          "[app]") {
    v1::ClusterEvent e;
    e.set_kind("failed");
    e.set_node("worker-a");
    e.set_addr("127.0.0.1:62001");
    e.set_incarnation(7);
    e.set_unix_ms(1795719001123);  // 2026-11-26T18:50:01.123Z
    auto* t = e.add_tags();
    t->set_key("role");
    t->set_value("worker");
    CHECK(app::event_text(e) == "2026-11-26T18:50:01.123Z 🔴 NodeFailed node=worker-a "
                                "addr=127.0.0.1:62001 incarnation=7 role=worker");
    CHECK(app::event_json(e) ==
          "{\"event\":\"failed\",\"node\":\"worker-a\",\"addr\":\"127.0.0.1:62001\","
          "\"incarnation\":7,\"tags\":{\"role\":\"worker\"},\"unix_ms\":1795719001123}");
    CHECK(app::event_label("joined") == "🟢 NodeJoined");
    CHECK(app::event_label("left") == "👋 NodeLeft");
    CHECK(app::event_label("recovered") == "💚 NodeRecovered");
    CHECK(app::event_label("suspect") == "🟡 NodeSuspect");
}

TEST_CASE("client_printer: the job's error event and raw output", "[app]") {
    std::ostringstream out;
    app::client_printer p(out, cli::client_output::jsonl);
    p.error("program failed: exit code 7", "boom\n");
    CHECK(out.str() == "{\"event\":\"error\",\"reason\":\"program failed: exit code 7\","
                       "\"stderr\":\"boom\\n\"}\n");

    std::ostringstream raw;
    std::ostringstream diag;
    app::client_printer r(raw, cli::client_output::raw, &diag);
    r.assigned("worker-a", "127.0.0.1:1", 1, "127.0.0.1:2");
    r.token(1, "first line", "worker-a", 1);
    r.token(2, "a chunk", "worker-a", 2, true);
    r.token(3, " and more\n", "worker-a", 3, true);
    r.done(3, 0);
    r.flush();
    CHECK(raw.str() == "first line\na chunk and more\n");
    CHECK(diag.str().find("assigned worker worker-a") != std::string::npos);
    CHECK(diag.str().find("done: 3 tokens") != std::string::npos);
}

TEST_CASE("member_printer: a name conflict names both addresses, holder first", "[app]") {
    v1::ClusterEvent e;
    e.set_kind("conflict");
    e.set_node("same");
    e.set_addr("127.0.0.1:43001");
    e.set_incarnation(7);
    e.set_unix_ms(1795719001123);
    e.add_addrs("127.0.0.1:43001");
    e.add_addrs("127.0.0.1:43002");
    CHECK(app::event_text(e) == "2026-11-26T18:50:01.123Z ⚠️ NameConflict node=same "
                                "addrs=127.0.0.1:43001,127.0.0.1:43002");
    CHECK(app::event_json(e) ==
          "{\"event\":\"conflict\",\"node\":\"same\",\"addr\":\"127.0.0.1:43001\","
          "\"incarnation\":7,\"tags\":{},\"unix_ms\":1795719001123,"
          "\"addrs\":[\"127.0.0.1:43001\",\"127.0.0.1:43002\"]}");
    // The line the director and workers log for it.
    const membership::member_event ev{membership::member_event_kind::conflict,
                                      {"same", {"127.0.0.1", 43001}, 7, {}, {}},
                                      {"127.0.0.1", 43002},
                                      false};
    CHECK(app::describe_event(ev) ==
          "⚠️ NameConflict node=same addrs=127.0.0.1:43001,127.0.0.1:43002");
}
