#include "app/client_printer.hpp"
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
          "\"draining\":false}]\n");
    CHECK(app::members_table(r).find("worker-a") != std::string::npos);
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
