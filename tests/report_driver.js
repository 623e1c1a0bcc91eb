// Walks a built Snakemake report as a reader would and leaves what it saw in <pre id="report-check">
// (JSON), for `chromium --dump-dom` to hand back: the first page; for each category of the menu
// and each of its subcategories, the rows of its result list (their labels and eye buttons); for
// each row, the figure that its eye button shows (the <img> with its decoded size) and the info
// panel that its info button opens (the caption, with the cells of the table it embeds).
// tests/report_browser.py appends it to a copy of the report; the report itself is left as built.
(async () => {
    const seen = { done: false, errors: [], landing: null, menu: [], categories: {}, panels: {}, images: {} };
    // Written after every step, so that a page cut short still tells how far it got.
    const pre = document.createElement("pre");
    pre.id = "report-check";
    const record = () => (pre.textContent = JSON.stringify(seen));
    window.addEventListener("error", (event) => seen.errors.push(String(event.message)));
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const until = async (what, test) => {
        for (let i = 0; i < 400; i++) {
            const found = test();
            if (found) return found;
            await sleep(25);
        }
        throw new Error(`timed out waiting for ${what}`);
    };
    const nav = () => document.querySelector("#app nav");
    const menuLink = (text) => Array.from(nav().querySelectorAll("li > a")).find((a) => a.textContent.trim() === text);
    const click = async (text) => (await until(`menu item ${text}`, () => menuLink(text))).click();
    const rows = () => Array.from(nav().querySelectorAll("table tbody tr"));
    const buttons = (tr) => Array.from(tr.querySelector("td:last-child").querySelectorAll("a"));
    const contentImage = () => Array.from(document.querySelectorAll("#app img")).find((img) => !nav().contains(img));
    // Back to the result list of a (sub)category, the way the menu leads there.
    const open = async (category, subcategory, many) => {
        app.setView({ navbarMode: "menu" }); // the breadcrumbs' first entry
        await click(category);
        if (many) await click(subcategory);
        return await until(`the results of ${category} / ${subcategory}`, () => (rows().length ? rows() : null));
    };
    try {
        document.body.appendChild(pre);
        await until("the report to render", () => nav() && menuLink("Workflow"));
        await sleep(500); // the rule graph (vega) draws after the first paint
        const content = nav().nextElementSibling; // the content area beside the menu
        const title = content.querySelector("h1");
        seen.landing = {
            html: content.innerHTML,
            text: content.innerText,
            // Where the first heading sits in the window, as a reader sees the page open.
            title_top: title ? title.getBoundingClientRect().top : null,
            window_height: window.innerHeight,
        };
        seen.menu = Array.from(nav().querySelectorAll("li")).map((li) => li.textContent.trim());
        record();
        for (const category of Object.keys(categories)) {
            const subcategories = Object.keys(categories[category]);
            seen.categories[category] = {};
            for (const subcategory of subcategories) {
                const listed = [];
                const count = (await open(category, subcategory, subcategories.length > 1)).length;
                for (let i = 0; i < count; i++) {
                    const tr = (await open(category, subcategory, subcategories.length > 1))[i];
                    const [eye, info] = buttons(tr);
                    const row = {
                        labels: Array.from(tr.querySelectorAll("td")).slice(0, -1).map((td) => td.textContent.trim()),
                        href: eye.getAttribute("href"),
                        download: eye.getAttribute("download"),
                    };
                    if (row.href === "#") {
                        // A figure: its eye button shows it in the content area.
                        eye.click();
                        const img = await until("the figure", contentImage);
                        await until("the figure to decode", () => img.complete && img.naturalWidth > 0);
                        row.shows = img.getAttribute("src");
                        seen.images[app.state.resultPath] = { width: img.naturalWidth, height: img.naturalHeight };
                    }
                    info.click();
                    await until("the result's panel", () => app.state.navbarMode === "resultinfo" && nav().textContent.includes("Snakemake rule"));
                    row.path = app.state.resultPath;
                    seen.panels[row.path] = {
                        text: nav().textContent,
                        cells: Array.from(nav().querySelectorAll("table.docutils tr")).map((tr) =>
                            Array.from(tr.querySelectorAll("td, th")).map((cell) => cell.textContent.trim())
                        ),
                        problems: nav().querySelectorAll(".system-message, .problematic").length,
                    };
                    listed.push(row);
                    seen.categories[category][subcategory] = listed;
                    record();
                }
                seen.categories[category][subcategory] = listed;
            }
        }
        seen.done = true;
    } catch (err) {
        seen.errors.push(String(err && err.stack ? err.stack : err));
    }
    record();
})();
