//! The smallest Tauri 2 app: one window showing a static page. `make bench` starts it and the
//! Kuager app the same way, one after the other, and compares how long each takes to show its
//! first screen.

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the hello-world window");
}
