fn main() {
    println!("spacescribe");
}
