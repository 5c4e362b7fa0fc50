import Foundation
import SXEvidenceCore
import Testing

/// The step-list grammar of sxevidence-steps(5): verbs in both languages, limits at and past
/// their boundary, errors naming the line.
@Suite struct StepListTests {
    func parse(_ s: String) throws -> [Step] { try Step.parse(Array(s.utf8)) }

    func refusal(_ s: String) -> EvidenceError? {
        do { _ = try parse(s); return nil } catch { return error as? EvidenceError }
    }

    @Test func everyVerbInBothLanguages() throws {
        let en = try parse("""
            # comment

            goto https://shop.example/item?id=1
            click #buy
            click-text 立即购买
            type input[name=q] => 珍珠 项链 => x
            press Enter
            scroll
            scroll 800
            wait-for .price within 20 s
            wait-for-text 七天无理由退货
            wait 1.5
            screenshot product_1
            note 价格已显示
            """)
        #expect(en.map(\.kind) == [.goto("https://shop.example/item?id=1"), .click(selector: "#buy"), .clickText("立即购买"),
                                   .type(selector: "input[name=q]", text: "珍珠 项链 => x"), .press("Enter"), .scroll(nil), .scroll(800),
                                   .waitFor(selector: ".price", seconds: 20), .waitForText("七天无理由退货", seconds: 30), .wait(1.5),
                                   .screenshot("product_1"), .note("价格已显示")])
        #expect(en.first?.line == 3)
        let zh = try parse("前往 https://a.example/\r\n点击 #x\r\n点击文字 店铺\r\n输入 #q => 项链\r\n按键 Tab\r\n滚动\r\n等待 #p\r\n等待文字 价格\r\n暂停 2\r\n截图 s\r\n备注 n\r\n")
        #expect(zh.map(\.verb) == ["goto", "click", "click-text", "type", "press", "scroll", "wait-for", "wait-for-text", "wait", "screenshot", "note"])
    }

    @Test func errorsNameTheLine() {
        let e = refusal("goto https://a.example/\n\nfly away\n")
        #expect(e?.code == .usage && (e?.en ?? "").contains("line 3") && (e?.en ?? "").contains("unknown step fly") && (e?.zh ?? "").contains("第 3 行"))
        #expect(refusal("goto javascript:alert(1)")?.en.contains("line 1") == true)
        #expect(refusal("goto file:///etc/passwd") != nil)
        #expect(refusal("type #q") != nil)
        #expect(refusal("press Hyper") != nil)
        #expect(refusal("wait 0") != nil && refusal("wait 301") != nil && refusal("wait x") != nil)
        #expect((try? parse("wait 300")) != nil)
        #expect(refusal("wait-for #a within 301 s") != nil && (try? parse("wait-for #a within 300 s")) != nil)
        #expect(refusal("screenshot a/b") != nil && refusal("screenshot " + String(repeating: "a", count: 65)) != nil)
        #expect((try? parse("screenshot " + String(repeating: "a", count: 64))) != nil)
        #expect(refusal("note a\u{7}b") != nil)
        #expect(refusal("# only a comment\n") != nil)
        #expect(refusal("click") != nil)
    }

    @Test func limits() {
        #expect((try? Step.parse([0x67, 0xFF])) == nil, "not UTF-8")
        let line = "note " + String(repeating: "x", count: 8192 - 5)
        #expect((try? parse(line)) != nil)
        #expect(refusal(line + "x")?.en.contains("8 KiB") == true)
        let many = Array(repeating: "note x", count: 500).joined(separator: "\n")
        #expect((try? parse(many))?.count == 500)
        #expect(refusal(many + "\nnote y")?.en.contains("500") == true)
        #expect((try? Step.parse([UInt8](repeating: 0x20, count: (1 << 20) + 1))) == nil)
    }
}

